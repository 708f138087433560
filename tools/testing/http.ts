/**
 * A real HTTP file server for tests, on a free loopback port: serves a folder with Range support (206, 416),
 * ETag and Last-Modified. Faults can be injected per request to exercise clients' retries.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

/** What to do with one request before serving it: `undefined` serves it normally. */
export type Fault = (req: IncomingMessage, res: ServerResponse, count: number) => 'handled' | undefined;

/** A running server. */
export interface TestHttp {
  url: string;
  /** Requests seen, as `METHOD path range`. */
  readonly requests: string[];
  fault: Fault | undefined;
  /** Serve without Range support (always 200 with the whole file). */
  noRanges: boolean;
  stop: () => Promise<void>;
}

/** Serves `root` on 127.0.0.1. */
export async function startHttp(root: string): Promise<TestHttp> {
  const state: TestHttp = {
    url: '',
    requests: [],
    fault: undefined,
    noRanges: false,
    stop: async () => undefined,
  };
  const server = createServer(async (req, res) => {
    state.requests.push(`${req.method} ${req.url} ${req.headers.range ?? ''}`.trim());
    if (state.fault?.(req, res, state.requests.length) === 'handled') return;
    const path = join(root, normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    const etag = `"${info.size}-${info.mtimeMs}"`;
    // Vagrant tells a catalog from a box by its Content-Type, as any real web server would send it.
    const type = path.endsWith('.json') ? 'application/json' : 'application/octet-stream';
    const headers: Record<string, string | number> = { ETag: etag, 'Last-Modified': info.mtime.toUTCString(), 'Content-Type': type };
    const range = state.noRanges ? undefined : /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (!state.noRanges) headers['Accept-Ranges'] = 'bytes';
    if (range && (range[1] || range[2])) {
      const start = range[1] ? Number(range[1]) : info.size - Number(range[2]);
      const end = range[1] && range[2] ? Math.min(Number(range[2]), info.size - 1) : info.size - 1;
      if (start >= info.size || start > end) {
        res.writeHead(416, { 'Content-Range': `bytes */${info.size}` }).end();
        return;
      }
      res.writeHead(206, { ...headers, 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${info.size}` });
      if (req.method === 'HEAD') res.end();
      else createReadStream(path, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': info.size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(path).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}`;
  state.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
