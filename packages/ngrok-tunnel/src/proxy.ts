/**
 * The local proxy the tunnel forwards to: it passes each request to the upstream (the platform's ingress, with its
 * Host header, so Istio routes it) and records it in the request log. Also the upstream's health probe.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type RequestLog, redactHeaders, redactPath } from './request-log.js';

/** A running proxy. */
export interface Proxy {
  /** `http://127.0.0.1:PORT`, what the tunnel forwards to. */
  readonly address: string;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

/**
 * The path and query to ask the upstream for. Only these come from the request: the scheme, host and port are
 * always the upstream's. An absolute-form request line (`GET http://other/x`) gives its path alone, and a path that
 * looks like another origin (`//host:port/x`, `/\\host/x`) stays a path on the upstream. A base path of the
 * upstream URL comes first.
 */
export function upstreamPath(upstream: URL, requestUrl: string): string {
  let path = requestUrl.startsWith('/') ? requestUrl : '/';
  if (!requestUrl.startsWith('/')) {
    try {
      const absolute = new URL(requestUrl);
      path = `${absolute.pathname}${absolute.search}`;
    } catch {
      path = '/';
    }
  }
  const base = upstream.pathname.replace(/\/+$/, '');
  return `${base}${path}`;
}

/** Starts the proxy on a free loopback port. */
export async function startProxy(target: string, log: RequestLog, options: { logBodies?: boolean } = {}): Promise<Proxy> {
  const upstream = new URL(target);
  const send = upstream.protocol === 'https:' ? httpsRequest : httpRequest;
  const server: Server = createServer((req, res) => {
    const started = performance.now();
    const body: Buffer[] = [];
    let bodyBytes = 0;
    if (options.logBodies) {
      req.on('data', (d: Buffer) => {
        if (bodyBytes < MAX_BODY) body.push(d.subarray(0, MAX_BODY - bodyBytes));
        bodyBytes += d.length;
      });
    }
    const finish = (status: number) =>
      void log
        .record({
          time: new Date().toISOString(),
          method: req.method ?? 'GET',
          path: redactPath(req.url ?? '/'),
          status,
          latencyMs: Math.round(performance.now() - started),
          headers: redactHeaders(req.headers),
          ...(options.logBodies ? { body: Buffer.concat(body).toString('utf8') } : {}),
        })
        .catch(() => undefined);
    const forward = send(
      {
        protocol: upstream.protocol,
        hostname: upstream.hostname.replace(/^\[|\]$/g, ''),
        port: upstream.port || undefined,
        path: upstreamPath(upstream, req.url ?? '/'),
        method: req.method,
        headers: { ...req.headers, host: upstream.host },
      },
      (up: IncomingMessage) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        up.on('end', () => finish(up.statusCode ?? 502));
      },
    );
    forward.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`airy-tunnel: the upstream ${target} did not answer (${(error as NodeJS.ErrnoException).code ?? error.message})\n`);
      finish(502);
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
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
