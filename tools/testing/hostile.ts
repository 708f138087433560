/**
 * A hostile HTTP server for tests, on a free loopback port: each path misbehaves in one way a real server (or an
 * attacker in the middle) can. Clients are tested against it for deadlines, checks of what servers claim, and
 * refusals. The body served for ranges is `body` (a Buffer the test also knows the hash of).
 *
 * Paths:
 *   /ok                 a correct server with ranges (the control)
 *   /trickle-body       correct headers, then one byte every `trickleMs`
 *   /trickle-headers    the status line and headers one byte every `trickleMs` (a raw socket)
 *   /wrong-range        206 whose Content-Range is shifted by one byte from what was asked
 *   /whole-probe        a correct server, except that bytes=0-0 gets the whole file as a 206 (as s3rver does)
 *   /long-body          206 that sends more bytes than asked (Content-Length says the right number)
 *   /short-length       200 without ranges whose Content-Length is larger than the body it sends
 *   /no-length          200 without ranges and without Content-Length (chunked)
 *   /huge               200, no Content-Length, `hugeBytes` of spaces (a catalog far too large)
 *   /redirect-file      302 to file:///etc/hostname
 *   /json/<name>        a JSON document set by the test in `documents`
 * A trailing `/metadata.json` is ignored, so any of them can stand where a catalog base URL goes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';

/** A running hostile server. */
export interface HostileServer {
  readonly url: string;
  /** Requests seen, as `METHOD path range`. */
  readonly requests: string[];
  /** Documents served under /json/<name>. */
  readonly documents: Map<string, string>;
  stop(): Promise<void>;
}

/** Options of the server. */
export interface HostileOptions {
  readonly body: Buffer;
  /** @default 1000 */
  readonly trickleMs?: number;
  /** @default 256 MiB */
  readonly hugeBytes?: number;
}

function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  const m = /^bytes=(\d+)-(\d+)$/.exec(header ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), end: Math.min(Number(m[2]), size - 1) };
}

/** Starts the server on 127.0.0.1. */
export async function startHostile(options: HostileOptions): Promise<HostileServer> {
  const { body } = options;
  const trickleMs = options.trickleMs ?? 1000;
  const documents = new Map<string, string>();
  const requests: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();

  const trickle = (write: (byte: Buffer) => boolean, bytes: Buffer, done: () => void) => {
    let i = 0;
    const timer = setInterval(() => {
      if (i >= bytes.length) {
        clearInterval(timer);
        timers.delete(timer);
        done();
        return;
      }
      write(bytes.subarray(i, i + 1));
      i++;
    }, trickleMs);
    timers.add(timer);
  };

  const serveRange = (req: IncomingMessage, res: ServerResponse, shift = 0) => {
    const range = parseRange(req.headers.range, body.length);
    if (!range) {
      res.writeHead(200, { 'Content-Length': body.length, 'Accept-Ranges': 'bytes', ETag: '"hostile"' }).end(body);
      return;
    }
    const length = range.end - range.start + 1;
    res.writeHead(206, {
      'Content-Length': length,
      'Content-Range': `bytes ${range.start + shift}-${range.end + shift}/${body.length}`,
      'Accept-Ranges': 'bytes',
      ETag: '"hostile"',
    });
    res.end(body.subarray(range.start, range.end + 1));
  };

  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.range ?? ''}`.trim());
    // A catalog URL may be given as a base: `/huge` and `/huge/metadata.json` are the same path here.
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/metadata\.json$/, '');
    const range = parseRange(req.headers.range, body.length);
    switch (path) {
      case '/ok':
        return serveRange(req, res);
      case '/trickle-body': {
        // The probe (bytes 0-0) is answered at once, so the trickle hits the download itself.
        if (range && range.start === 0 && range.end === 0) return serveRange(req, res);
        const slice = range ? body.subarray(range.start, range.end + 1) : body;
        res.writeHead(range ? 206 : 200, {
          'Content-Length': slice.length,
          ...(range ? { 'Content-Range': `bytes ${range.start}-${range.end}/${body.length}` } : {}),
          'Accept-Ranges': 'bytes',
          ETag: '"hostile"',
        });
        return trickle((b) => res.write(b), slice, () => res.end());
      }
      case '/whole-probe':
        if (range && range.start === 0 && range.end === 0) {
          res.writeHead(206, { 'Content-Length': body.length, 'Content-Range': `bytes 0-${body.length - 1}/${body.length}`, ETag: '"hostile"' });
          return res.end(body);
        }
        return serveRange(req, res);
      case '/wrong-range':
        if (range && range.start === 0 && range.end === 0) return serveRange(req, res);
        return serveRange(req, res, 1);
      case '/long-body': {
        if (!range || (range.start === 0 && range.end === 0)) return serveRange(req, res);
        // Content-Length is omitted so the extra bytes are part of the body as HTTP frames it (chunked).
        res.writeHead(206, { 'Content-Range': `bytes ${range.start}-${range.end}/${body.length}`, ETag: '"hostile"' });
        return res.end(Buffer.concat([body.subarray(range.start, range.end + 1), Buffer.alloc(4096, 7)]));
      }
      case '/short-length':
        res.writeHead(200, { 'Content-Length': body.length + 1000 });
        res.end(body);
        res.socket?.destroy();
        return;
      case '/no-length':
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        return res.end(body);
      case '/huge': {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const block = Buffer.alloc(2 ** 20, 32);
        let sent = 0;
        const hugeBytes = options.hugeBytes ?? 256 * 2 ** 20;
        const pump = () => {
          while (sent < hugeBytes) {
            sent += block.length;
            if (!res.write(block)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', () => {
          sent = hugeBytes;
        });
        return pump();
      }
      case '/redirect-file':
        return res.writeHead(302, { Location: 'file:///etc/hostname' }).end();
      default: {
        const name = /^\/json\/(.+)$/.exec(path)?.[1];
        const doc = name ? documents.get(name) : undefined;
        if (doc === undefined) return res.writeHead(404).end('not found');
        return res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(doc) }).end(doc);
      }
    }
  });
  // Headers trickled byte by byte need the raw socket: a plain TCP server looks at the request line first, and
  // hands every other connection to the HTTP server.
  const front = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', (first: Buffer) => {
      if (first.toString('latin1').startsWith('GET /trickle-headers')) {
        requests.push('GET /trickle-headers');
        const answer = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
        trickle((b) => socket.write(b), answer, () => socket.end());
        return;
      }
      socket.pause();
      socket.unshift(first);
      server.emit('connection', socket);
      socket.resume();
    });
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const { port } = front.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    documents,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        for (const s of sockets) s.destroy();
        server.close();
        front.close(() => resolve());
      }),
  };
}
