/**
 * The webhook inspector: a page on 127.0.0.1 that lists every delivery live (server-sent events), shows its
 * details and signature check, and replays it. Safe by construction: it binds loopback only, refuses a Host that is
 * not a loopback name (DNS rebinding), and every API call (the list, the live events, a replay) needs the
 * per-process token in a header and no foreign Origin (CSRF). Any local user can reach 127.0.0.1, so the token is
 * never served: it reaches only the owner, in the URL `start` prints to their terminal (after `#`, which a browser
 * never sends), and the page takes it from there. A replay goes only to the proxy's upstream. Everything the page
 * needs is served here: no CDN, no fetch elsewhere.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Deliveries } from './deliveries.js';
import { inspectorPage } from './inspector-page.js';

/** A running inspector. */
export interface Inspector {
  /** `http://127.0.0.1:PORT`. */
  readonly address: string;
  /** The address to open, for the owner only: `http://127.0.0.1:PORT/#token=…` (the page takes the token from it). */
  readonly url: string;
  /** The per-process token every API call carries in {@link TOKEN_HEADER}. */
  readonly token: string;
  /** Event streams (open pages' live lists) being served now. */
  streamCount(): number;
  close(): Promise<void>;
}

/** What the inspector serves and how it replays. */
export interface InspectorOptions {
  readonly deliveries: Deliveries;
  /** Replays delivery `id` to the upstream; resolves to the new delivery's id, or undefined when it is gone. */
  readonly replay: (id: number) => Promise<number | undefined>;
  /** The proxy's address, for the page's curl commands. */
  readonly proxyAddress: string;
  /** A fixed port; without it 4040 when free, else any free port. */
  readonly port?: number;
}

/** The header every API call must carry the token in. */
export const TOKEN_HEADER = 'x-airy-inspector-token';
/** The port ngrok's own inspector uses, taken when free. */
export const DEFAULT_INSPECTOR_PORT = 4040;

/** What one event stream may hold unread before it is dropped. */
export const MAX_STREAM_BUFFER = 1024 * 1024;
/** Event streams open at once; past it a new one is refused. */
const MAX_STREAMS = 32;

const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The page's own origin, under any loopback name. */
function sameOrigin(origin: string, port: number): boolean {
  return new RegExp(`^http://(127\\.0\\.0\\.1|localhost|\\[::1\\]):${port}$`).test(origin);
}

/** Whether `given` is the token, compared in constant time. */
function isToken(given: string | string[] | undefined, token: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(body));

/** Starts the inspector on 127.0.0.1. */
export async function startInspector(options: InspectorOptions): Promise<Inspector> {
  const token = randomBytes(24).toString('base64url');
  let port = 0;
  const streams = new Set<ServerResponse>();
  const unsubscribe = options.deliveries.subscribe((d) => {
    const event = `event: delivery\ndata: ${JSON.stringify(d)}\n\n`;
    for (const res of streams) {
      // A client that does not read must not make us buffer every delivery for it: past the bound it is dropped
      // (a page that reconnects gets the list anew).
      if (res.writableLength > MAX_STREAM_BUFFER) {
        streams.delete(res);
        res.destroy();
        continue;
      }
      res.write(event);
    }
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // DNS rebinding: a page on another name that resolves to 127.0.0.1 still sends its own Host.
    if (!LOOPBACK_HOST.test(req.headers.host ?? '')) return json(res, 403, { error: 'the inspector answers only to 127.0.0.1, localhost or [::1]' });
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
        // Only what this server sends: no CDN, no request elsewhere.
        'Content-Security-Policy': "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
        'X-Frame-Options': 'DENY',
      });
      // The page holds no data and no token: any local user may load it, and gets nothing more with it.
      return res.end(inspectorPage(options.proxyAddress));
    }
    if (url.pathname.startsWith('/api/')) {
      // CSRF: another site's page may send a request here, but never with our Origin nor with the token.
      if (req.headers.origin !== undefined && !sameOrigin(req.headers.origin, port)) return json(res, 403, { error: 'a request from another origin is refused' });
      if (!isToken(req.headers[TOKEN_HEADER], token)) {
        return json(res, 401, { error: `the inspector's API needs its token in ${TOKEN_HEADER}: open the inspector with the address airy-tunnel start printed (it carries the token)` });
      }
    }
    if (req.method === 'GET' && url.pathname === '/api/deliveries') return json(res, 200, options.deliveries.list());
    if (req.method === 'GET' && url.pathname === '/api/events') {
      if (streams.size >= MAX_STREAMS) return json(res, 503, { error: 'too many open event streams' });
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
      res.write(': connected\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    const detail = /^\/api\/deliveries\/(\d+)$/.exec(url.pathname);
    if (req.method === 'GET' && detail) {
      const d = options.deliveries.list().find((x) => x.id === Number(detail[1]));
      return d ? json(res, 200, d) : json(res, 404, { error: 'no such delivery (the inspector keeps the last 500)' });
    }
    const replay = /^\/api\/deliveries\/(\d+)\/replay$/.exec(url.pathname);
    if (replay) {
      if (req.method !== 'POST') return json(res, 405, { error: 'replay is a POST' });
      const original = options.deliveries.get(Number(replay[1]));
      if (original?.notReplayable) return json(res, 409, { error: original.notReplayable });
      const id = await options.replay(Number(replay[1]));
      return id === undefined ? json(res, 404, { error: 'no such delivery' }) : json(res, 201, { id });
    }
    return json(res, 404, { error: 'not found' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      if (!res.headersSent) json(res, 500, { error: error.message });
      else res.end();
    });
  });
  if (options.port !== undefined) await listen(server, options.port);
  else await listen(server, DEFAULT_INSPECTOR_PORT).catch(() => listen(server, 0));
  port = (server.address() as AddressInfo).port;
  return {
    address: `http://127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}/#token=${token}`,
    token,
    streamCount: () => streams.size,
    close: () =>
      new Promise<void>((resolve) => {
        unsubscribe();
        for (const res of streams) res.end();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
