/**
 * A range server whose links are emulated on loopback: each connection is paced to a rate of its own, and all of
 * them together to an optional total (a token bucket they share), as a far region or a home line would be. One
 * request's range can be slowed further (`slow`), to test how a client copes with one bad connection. Used by the
 * downloader's tests and by `bench:download`, so the tool and its peers meet the same server.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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

/** Serves `body` at `/box` on 127.0.0.1 with Range support, paced as `link` says. */
export async function startPaced(body: Buffer, link: LinkOptions): Promise<PacedServer> {
  const total = link.total ? new Bucket(link.total) : undefined;
  const ranges: string[] = [];
  const sent = new Map<string, number>();
  let concurrent = 0;
  let peak = 0;

  const stream = async (res: ServerResponse, start: number, end: number, rate: number | undefined, key = '') => {
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
        sent.set(key, (sent.get(key) ?? 0) + slice.length);
      }
      res.end();
    } finally {
      concurrent--;
    }
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/box') return void res.writeHead(404).end();
    const header = req.headers.range ?? '';
    ranges.push(header);
    const m = /^bytes=(\d+)-(\d*)$/.exec(header);
    const base = { 'Accept-Ranges': 'bytes', ETag: '"paced"', 'Content-Type': 'application/octet-stream' };
    if (!m) {
      res.writeHead(200, { ...base, 'Content-Length': body.length });
      if (req.method === 'HEAD') return void res.end();
      return void stream(res, 0, body.length - 1, link.perConnection);
    }
    const start = Number(m[1]);
    const end = Math.min(m[2] ? Number(m[2]) : body.length - 1, body.length - 1);
    if (start > end) return void res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
    res.writeHead(206, { ...base, 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${body.length}` });
    if (req.method === 'HEAD') return void res.end();
    void stream(res, start, end, link.slow?.(start) ?? link.perConnection, header);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/box`,
    peakConcurrent: () => peak,
    ranges,
    sent,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
