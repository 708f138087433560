/**
 * A range server whose links are emulated on loopback: each connection is paced to a rate of its own, and all of
 * them together to an optional total (a token bucket they share), as a far region or a home line would be. One
 * request's range can be slowed further (`slow`), to test how a client copes with one bad connection. Used by the
 * downloader's tests and by `bench:download`, so the tool and its peers meet the same server.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

/** The emulated link. Rates are bytes per second. */
export interface LinkOptions {
  readonly perConnection?: number;
  readonly total?: number;
  /** A rate for the request whose range starts at a given byte, instead of `perConnection` (undefined: as usual). */
  readonly slow?: (start: number) => number | undefined;
}

/** A running paced server. */
export interface PacedServer {
  readonly url: string;
  /** The most requests that were streaming at once. */
  peakConcurrent(): number;
  /** Every `Range` header seen, in order. */
  readonly ranges: string[];
  /** Bytes sent per `Range` header (the last request with that header). */
  readonly sent: Map<string, number>;
  /** Bytes of bodies sent in all, over every request and file. */
  bytesSent(): number;
  stop(): Promise<void>;
}

/** A virtual-time token bucket: each take reserves the next free slot; the wait is how far ahead that slot is. */
class Bucket {
  private nextFree = 0;
  constructor(private readonly rate: number) {}
  /** Milliseconds to wait before `bytes` may go. */
  take(bytes: number, now: number): number {
    const start = Math.max(now, this.nextFree);
    this.nextFree = start + (bytes / this.rate) * 1000;
    return start - now;
  }
}

const SLICE = 64 * 1024;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Serves `body` at `/box` on 127.0.0.1 with Range support, paced as `link` says; or, given `{ folder }`, every file
 * under that folder at its path (a box beside its index, a chunk store), all through the same link.
 */
export async function startPaced(source: Buffer | { readonly folder: string }, link: LinkOptions): Promise<PacedServer> {
  const files = new Map<string, Buffer | undefined>();
  const bodyOf = (path: string): Buffer | undefined => {
    if (Buffer.isBuffer(source)) return path === '/box' ? source : undefined;
    if (!files.has(path)) {
      const file = join(source.folder, normalize(decodeURIComponent(path)));
      files.set(path, file.startsWith(source.folder) && statSync(file, { throwIfNoEntry: false })?.isFile() ? readFileSync(file) : undefined);
    }
    return files.get(path);
  };
  let bytesSent = 0;
  const total = link.total ? new Bucket(link.total) : undefined;
  const ranges: string[] = [];
  const sent = new Map<string, number>();
  let concurrent = 0;
  let peak = 0;

  const stream = async (res: ServerResponse, body: Buffer, start: number, end: number, rate: number | undefined, key = '', last = true) => {
    sent.set(key, 0);
    const own = rate ? new Bucket(rate) : undefined;
    concurrent++;
    peak = Math.max(peak, concurrent);
    try {
      for (let at = start; at <= end && !res.destroyed; ) {
        const slice = body.subarray(at, Math.min(end + 1, at + SLICE));
        const now = performance.now();
        const wait = Math.max(own?.take(slice.length, now) ?? 0, total?.take(slice.length, now) ?? 0);
        if (wait > 0) await sleep(wait);
        if (!res.write(slice)) await new Promise((r) => res.once('drain', r));
        at += slice.length;
        bytesSent += slice.length;
        sent.set(key, (sent.get(key) ?? 0) + slice.length);
      }
      if (last) res.end();
    } finally {
      concurrent--;
    }
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const body = bodyOf(new URL(req.url ?? '/', 'http://x').pathname);
    if (!body) return void res.writeHead(404).end();
    const header = req.headers.range ?? '';
    ranges.push(header);
    // Several ranges in one request (zsync asks so): a multipart/byteranges answer, as nginx and Apache give.
    const many = /^bytes=\d+-\d+(,\s*\d+-\d+)+$/.test(header) ? header.slice(6).split(',').map((r) => r.trim().split('-').map(Number)) : undefined;
    if (many && req.method !== 'HEAD') {
      const boundary = 'airy-paced-boundary';
      const parts = many.map(([start = 0, wanted = 0]) => {
        const end = Math.min(wanted, body.length - 1);
        return { start, end, head: `\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes ${start}-${end}/${body.length}\r\n\r\n` };
      });
      const tail = `\r\n--${boundary}--\r\n`;
      // A length, not chunked encoding: simple clients (zsync's) read multipart answers only so.
      const length = parts.reduce((n, p) => n + Buffer.byteLength(p.head) + p.end - p.start + 1, Buffer.byteLength(tail));
      res.writeHead(206, { 'Accept-Ranges': 'bytes', ETag: '"paced"', 'Content-Type': `multipart/byteranges; boundary=${boundary}`, 'Content-Length': length });
      void (async () => {
        for (const p of parts) {
          res.write(p.head);
          await stream(res, body, p.start, p.end, link.perConnection, header, false);
        }
        res.end(tail);
      })();
      return;
    }
    const m = /^bytes=(\d+)-(\d*)$/.exec(header);
    const base = { 'Accept-Ranges': 'bytes', ETag: '"paced"', 'Content-Type': 'application/octet-stream' };
    if (!m) {
      res.writeHead(200, { ...base, 'Content-Length': body.length });
      if (req.method === 'HEAD') return void res.end();
      return void stream(res, body, 0, body.length - 1, link.perConnection);
    }
    const start = Number(m[1]);
    const end = Math.min(m[2] ? Number(m[2]) : body.length - 1, body.length - 1);
    if (start > end) return void res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
    res.writeHead(206, { ...base, 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${body.length}` });
    if (req.method === 'HEAD') return void res.end();
    void stream(res, body, start, end, link.slow?.(start) ?? link.perConnection, header);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: Buffer.isBuffer(source) ? `http://127.0.0.1:${port}/box` : `http://127.0.0.1:${port}`,
    peakConcurrent: () => peak,
    bytesSent: () => bytesSent,
    ranges,
    sent,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
