/**
 * The local proxy the tunnel forwards to: it passes each request to the upstream (the platform's ingress, with its
 * Host header, so Istio routes it) and records it in the request log. Also the upstream's health probe.
 *
 * The internet is not trusted: by default only the webhook sources' paths are forwarded (the UI and the API stay
 * private), judged on the path with its dot segments resolved (`/facebook/../x` is `/x`, not Facebook), which is
 * also the path the upstream is asked for; bodies and connections are bounded; and a caller is never told where
 * the upstream is.
 *
 * Slow senders are bounded too: a request's headers and its body each have a time limit, one peer may have only so
 * many requests in progress, and when every connection is taken a new one makes room by closing the oldest that is
 * carrying no request yet (still sending its headers, or idle), so a crowd of trickling connections cannot keep real
 * deliveries out.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WEBHOOK_SOURCES } from '@airy/cli-kit';
import type { Deliveries, StoredDelivery } from './deliveries.js';
import { type RequestLog, redactHeaders, redactPath } from './request-log.js';
import { checkSignature, type SignatureSecrets } from './signatures.js';

/** A running proxy. */
export interface Proxy {
  /** `http://127.0.0.1:PORT`, what the tunnel forwards to. */
  readonly address: string;
  /** Connections open now. */
  connections(): number;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

/** What a forward brought back. */
export interface Forwarded {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  readonly latencyMs: number;
}

/** The most of a webhook's body that is forwarded (webhooks are small; a larger one is refused with 413). */
export const MAX_REQUEST = 4 * 2 ** 20;
/**
 * Connections the proxy keeps open at once (in flight at most MAX_REQUEST each); past it a new connection closes
 * the oldest one that carries no request yet, or is itself refused when every one carries a request.
 */
export const MAX_CONNECTIONS = 128;

/** How slow senders are bounded (see the module comment). */
export interface ProxyLimits {
  /** Time a connection has for a request's headers, from when it opened or its last answer was sent. @default 10 s */
  readonly headersMs?: number;
  /** Time a request has for its body, from its headers on. @default 30 s */
  readonly bodyMs?: number;
  /** Connections open at once. @default {@link MAX_CONNECTIONS} */
  readonly connections?: number;
  /** Requests in progress from one peer (see {@link peerOf}); past it, 429. @default {@link MAX_PER_PEER} */
  readonly perPeer?: number;
}

/** Requests in progress from one peer at once. */
export const MAX_PER_PEER = 16;

/**
 * Who sent a request: the proxy listens on loopback only, so its socket peer is always the tunnel's agent (or a
 * local program); the tunnel (ngrok, cloudflared) names the caller in X-Forwarded-For, appending it last, so the
 * last entry is the one a caller cannot forge through the tunnel. Without it, the socket's address. Pure.
 */
export function peerOf(headers: Record<string, string | string[] | undefined>, socketAddress: string | undefined): string {
  const forwarded = headers['x-forwarded-for'];
  const last = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',').at(-1)?.trim();
  return last || socketAddress || 'unknown';
}

/**
 * The path and query a request asks for, with dot segments resolved as a URL parser resolves them (`.`, `..`,
 * and their percent-encoded forms): what is forwarded and what decides the source. Absolute-form gives its path;
 * a path that looks like another origin (`//host/x`) stays a path. Pure.
 */
export function normalisePath(requestUrl: string): string {
  let raw = requestUrl.startsWith('/') ? requestUrl : '/';
  if (!requestUrl.startsWith('/')) {
    try {
      const absolute = new URL(requestUrl);
      raw = `${absolute.pathname}${absolute.search}`;
    } catch {
      raw = '/';
    }
  }
  // A fixed origin, and a leading "/." so that "//host" is never read as an authority.
  const url = new URL(`/.${raw}`, 'http://airy-tunnel.invalid');
  return `${url.pathname}${url.search}`;
}

/**
 * The path and query to ask the upstream for. Only these come from the request: the scheme, host and port are
 * always the upstream's. The request's path is taken as {@link normalisePath} takes it (an absolute-form request
 * line gives its path alone; `//host:port/x` or `/\\host/x` stay paths on the upstream), after a base path of the
 * upstream URL.
 */
export function upstreamPath(upstream: URL, requestUrl: string): string {
  return `${upstream.pathname.replace(/\/+$/, '')}${normalisePath(requestUrl)}`;
}

/** Credentials of a URL for HTTP Basic auth (`user:password`), if it has them. */
function basicAuth(url: URL): string | undefined {
  if (!url.username && !url.password) return undefined;
  return `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
}

/**
 * One request to the upstream: its origin is always the upstream's (see {@link upstreamPath}); the Host header is
 * the upstream's, so its ingress routes it. Used for live deliveries and for replays.
 */
export function forwardOnce(
  target: string,
  request: { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: Buffer },
): Promise<Forwarded> {
  const upstream = new URL(target);
  const send = upstream.protocol === 'https:' ? httpsRequest : httpRequest;
  const started = performance.now();
  // The body is sent whole, with its length: a chunked encoding the request came with does not apply any more.
  const { 'transfer-encoding': _chunked, ...headers } = request.headers;
  const auth = basicAuth(upstream);
  return new Promise((resolve, reject) => {
    const forward = send(
      {
        ...(auth ? { auth } : {}),
        protocol: upstream.protocol,
        hostname: upstream.hostname.replace(/^\[|\]$/g, ''),
        port: upstream.port || undefined,
        path: upstreamPath(upstream, request.url),
        method: request.method,
        headers: { ...headers, host: upstream.host, 'content-length': String(request.body.length) },
      },
      (up: IncomingMessage) => {
        const parts: Buffer[] = [];
        up.on('data', (d: Buffer) => parts.push(d));
        up.on('end', () => resolve({ status: up.statusCode ?? 502, headers: up.headers, body: Buffer.concat(parts), latencyMs: Math.round(performance.now() - started) }));
        up.on('error', reject);
      },
    );
    forward.on('error', reject);
    forward.end(request.body);
  });
}

/** What the proxy records, besides the request log. */
export interface ProxyOptions {
  /** Record bodies in the log and show them in the inspector. */
  readonly logBodies?: boolean;
  /** Where the inspector's deliveries go. */
  readonly deliveries?: Deliveries;
  /** Provider secrets to check signatures with. */
  readonly secrets?: SignatureSecrets;
  /**
   * The public base URL providers call (Twilio signs it), read at each delivery: under ngrok it is the URL of the
   * current session. Defaults to the proxy's own address.
   */
  readonly publicUrl?: string | (() => string | undefined);
  /** Forward every path, not only the webhook sources' (the UI and the API become public). @default false */
  readonly forwardAll?: boolean;
  /** A fixed port; 0 (the default) takes a free one. */
  readonly port?: number;
  /** Bounds on slow senders. */
  readonly limits?: ProxyLimits;
}

/** The webhook source a path belongs to, from WEBHOOK_SOURCES. */
export function sourceOf(path: string): string | undefined {
  return WEBHOOK_SOURCES.find((s) => path === s.path || path.startsWith(`${s.path}/`) || path.startsWith(`${s.path}?`))?.source;
}

/** Starts the proxy on 127.0.0.1 (a free port unless `options.port`). */
export async function startProxy(target: string, log: RequestLog, options: ProxyOptions = {}): Promise<Proxy> {
  let address = '';
  const headersMs = options.limits?.headersMs ?? 10_000;
  const bodyMs = options.limits?.bodyMs ?? 30_000;
  const maxConnections = options.limits?.connections ?? MAX_CONNECTIONS;
  const perPeer = options.limits?.perPeer ?? MAX_PER_PEER;
  /** Open connections, oldest first; `waitingSince` is set while one carries no request (headers not yet in). */
  const sockets = new Map<Socket, { waitingSince?: number }>();
  const inProgress = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const socket = req.socket;
    const state = sockets.get(socket);
    if (state) state.waitingSince = undefined;
    const peer = peerOf(req.headers, socket.remoteAddress);
    const busy = inProgress.get(peer) ?? 0;
    if (busy >= perPeer) {
      // Its body is not read: the connection closes with the answer.
      res.writeHead(429, { 'Content-Type': 'text/plain', Connection: 'close', 'Retry-After': '1' }).end(`airy-tunnel: more than ${perPeer} requests at once from one sender\n`);
      res.on('finish', () => socket.destroy());
      return;
    }
    inProgress.set(peer, busy + 1);
    let bodyTimer: NodeJS.Timeout | undefined = setTimeout(() => {
      bodyTimer = undefined;
      // A body that trickles holds a connection: it has bodyMs, then the connection is closed.
      if (!res.headersSent) res.writeHead(408, { 'Content-Type': 'text/plain', Connection: 'close' }).end('airy-tunnel: the request body did not arrive in time\n');
      res.on('finish', () => socket.destroy());
      setTimeout(() => socket.destroy(), 1000).unref();
    }, bodyMs);
    bodyTimer.unref();
    res.on('close', () => {
      if (bodyTimer) clearTimeout(bodyTimer);
      const left = (inProgress.get(peer) ?? 1) - 1;
      if (left > 0) inProgress.set(peer, left);
      else inProgress.delete(peer);
      const after = sockets.get(socket);
      if (after) after.waitingSince = Date.now();
    });
    const body: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size <= MAX_REQUEST) body.push(d);
    });
    req.on('end', () => {
      if (bodyTimer) clearTimeout(bodyTimer);
      bodyTimer = undefined;
      if (res.headersSent) return;
      if (size > MAX_REQUEST) {
        res.writeHead(413, { 'Content-Type': 'text/plain' }).end(`airy-tunnel: a webhook body over ${MAX_REQUEST} bytes is not forwarded\n`);
        return;
      }
      const raw = Buffer.concat(body);
      const path = normalisePath(req.url ?? '/');
      const record = (status: number, latencyMs: number, responseHeaders: Record<string, string | string[] | undefined>) => {
        void log
          .record({
            time: new Date().toISOString(),
            method: req.method ?? 'GET',
            path: redactPath(path),
            status,
            latencyMs,
            headers: redactHeaders(req.headers),
            ...(options.logBodies ? { body: raw.subarray(0, MAX_BODY).toString('utf8') } : {}),
          })
          .catch(() => undefined);
        if (options.deliveries) recordDelivery(options.deliveries, { method: req.method ?? 'GET', headers: req.headers, path, raw, status, latencyMs, responseHeaders }, options, address);
      };
      if (!options.forwardAll && !sourceOf(path.split('?')[0] ?? path)) {
        res
          .writeHead(404, { 'Content-Type': 'text/plain' })
          .end('airy-tunnel: only the webhook paths are forwarded (airy-tunnel start --forward-all forwards every path)\n');
        record(404, 0, {});
        return;
      }
      forwardOnce(target, { method: req.method ?? 'GET', url: path, headers: req.headers, body: raw }).then(
        (up) => {
          res.writeHead(up.status, up.headers);
          res.end(up.body);
          record(up.status, up.latencyMs, up.headers);
        },
        () => {
          // The caller is the internet: it learns that the platform did not answer, never where it is.
          if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
          res.end('airy-tunnel: the platform did not answer\n');
          record(502, 0, {});
        },
      );
    });
  });
  server.on('connection', (socket: Socket) => {
    if (sockets.size >= maxConnections) {
      // Full: the oldest connection that carries no request makes room; a slow sender still sending its headers
      // loses its place before a delivery does. When every one carries a request, the newcomer is refused.
      const idle = [...sockets].find(([, s]) => s.waitingSince !== undefined)?.[0];
      if (!idle) {
        socket.destroy();
        return;
      }
      sockets.delete(idle);
      idle.destroy();
    }
    sockets.set(socket, { waitingSince: Date.now() });
    socket.on('close', () => sockets.delete(socket));
  });
  // Headers that trickle: a connection carrying no request is closed once it has waited headersMs.
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [socket, s] of sockets) if (s.waitingSince !== undefined && now - s.waitingSince > headersMs) socket.destroy();
    },
    Math.max(50, Math.min(1000, headersMs / 4)),
  );
  sweep.unref();
  // Node's own limits stay as a backstop behind ours.
  server.headersTimeout = headersMs;
  server.requestTimeout = headersMs + bodyMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  address = `http://127.0.0.1:${port}`;
  return {
    address,
    connections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sweep);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Adds one forwarded request to the inspector's deliveries, with its signature check. */
function recordDelivery(
  deliveries: Deliveries,
  d: {
    method: string;
    headers: Record<string, string | string[] | undefined>;
    path: string;
    raw: Buffer;
    status: number;
    latencyMs: number;
    responseHeaders: Record<string, string | string[] | undefined>;
  },
  options: ProxyOptions,
  proxyAddress: string,
  replayOf?: number,
): StoredDelivery {
  const pathOnly = d.path.split('?')[0] ?? d.path;
  const source = sourceOf(pathOnly);
  const publicUrl = typeof options.publicUrl === 'function' ? options.publicUrl() : options.publicUrl;
  const base = (publicUrl ?? proxyAddress).replace(/\/+$/, '');
  const signature = checkSignature(source, options.secrets ?? {}, {
    rawBody: d.raw,
    headers: d.headers,
    publicUrl: `${base}${d.path}`,
    contentType: d.headers['content-type'] as string | undefined,
  });
  return deliveries.add({
    time: new Date().toISOString(),
    ...(source ? { source } : {}),
    method: d.method,
    path: redactPath(d.path),
    status: d.status,
    latencyMs: d.latencyMs,
    requestHeaders: redactHeaders(d.headers),
    responseHeaders: redactHeaders(d.responseHeaders),
    ...(options.logBodies ? { body: d.raw.subarray(0, MAX_BODY).toString('utf8') } : {}),
    ...(signature ? { signature } : {}),
    ...(replayOf ? { replayOf } : {}),
    raw: { path: d.path, headers: { ...d.headers }, body: d.raw },
  });
}

/**
 * Sends a recorded delivery to the upstream again, exactly as it came in (method, path, headers, body), and records
 * the answer as a new delivery marked "replay of #N". Only ever to `target`.
 */
export async function replay(target: string, deliveries: Deliveries, id: number, options: ProxyOptions, proxyAddress: string): Promise<number | undefined> {
  const original = deliveries.get(id);
  if (!original) return undefined;
  const path = original.raw.path;
  const up = await forwardOnce(target, { method: original.method, url: path, headers: original.raw.headers, body: original.raw.body }).catch(
    (error: NodeJS.ErrnoException) => ({ status: 502, headers: {}, body: Buffer.from(error.code ?? error.message), latencyMs: 0 }),
  );
  const headers = original.raw.headers;
  const delivery = { method: original.method, headers, path, raw: original.raw.body, status: up.status, latencyMs: up.latencyMs, responseHeaders: up.headers };
  return recordDelivery(deliveries, delivery, options, proxyAddress, id).id;
}

/** One GET of the upstream: its HTTP status, or the reason it did not answer. */
export function probeUpstream(target: string, timeoutMs = 5000): Promise<{ ok: boolean; detail: string }> {
  const url = new URL(target);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = send(url, { method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve({ ok: status > 0 && status < 500, detail: `HTTP ${status}` });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, detail: e.code ?? e.message }));
    req.end();
  });
}
