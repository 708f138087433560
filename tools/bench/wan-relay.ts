#!/usr/bin/env tsx
/**
 * A WAN link in user space, for kernels without `sch_netem` (where `tc qdisc add … netem` says "Specified qdisc
 * kind is unknown"). A TCP relay in front of one server: every byte, in each direction, is delivered `delay/2`
 * after it was read, and acknowledged `delay/2` after that. Like TCP, each connection may have at most a window
 * of bytes unacknowledged; the window starts at 10 segments and grows by what is acknowledged (slow start) up to
 * the most a Linux sender and receiver with this machine's settings allow (see {@link kernelWindow}). So one
 * stream is held to window/RTT, as on a real long link, and parallel streams are not.
 *
 * Run as a program: `tsx tools/bench/wan-relay.ts --target 127.0.0.1:PORT --delay 50` prints `{"port":N,...}`.
 */
import { readFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const SEGMENT = 1448;

/**
 * The largest window one Linux connection reaches here: the sender's send buffer limit (`tcp_wmem` max) or the
 * receive window the receiver advertises (`tcp_rmem` max, less the `tcp_adv_win_scale` share kept for overhead),
 * whichever is smaller.
 */
export function kernelWindow(): number {
  const read = (p: string) => readFileSync(p, 'utf8').trim();
  const max = (p: string) => Number(read(p).split(/\s+/).at(-1));
  const scale = Number(read('/proc/sys/net/ipv4/tcp_adv_win_scale'));
  const rmem = max('/proc/sys/net/ipv4/tcp_rmem');
  const advertised = scale > 0 ? rmem - rmem / 2 ** scale : rmem / 2 ** -scale;
  return Math.min(max('/proc/sys/net/ipv4/tcp_wmem'), advertised);
}

/** A running relay. */
export interface Relay {
  readonly port: number;
  close(): Promise<void>;
}

/** One direction of one connection: delayed delivery, delayed acknowledgement, a window that grows. */
function pipeDelayed(from: Socket, to: Socket, oneWayMs: number, maxWindow: number): void {
  let window = 10 * SEGMENT;
  let inFlight = 0;
  from.on('data', (data) => {
    inFlight += data.length;
    if (inFlight >= window) from.pause();
    setTimeout(() => {
      if (to.destroyed) return;
      to.write(data, () =>
        setTimeout(() => {
          inFlight -= data.length;
          window = Math.min(maxWindow, window + data.length);
          if (inFlight < window && from.isPaused()) from.resume();
        }, oneWayMs),
      );
    }, oneWayMs);
  });
  // The end travels the link too, after the data before it.
  from.on('end', () => setTimeout(() => to.end(), oneWayMs));
}

/** Starts a relay on 127.0.0.1 to `target`, with `delayMs` round-trip time and windows up to `maxWindow` bytes. */
export function startRelay(options: { target: { host: string; port: number }; delayMs: number; maxWindow: number }): Promise<Relay> {
  const oneWay = options.delayMs / 2;
  const { maxWindow } = options;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection(options.target);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    // The connection itself costs one round trip before the first byte can go.
    upstream.pause();
    client.pause();
    upstream.on('connect', () =>
      setTimeout(() => {
        pipeDelayed(client, upstream, oneWay, maxWindow);
        pipeDelayed(upstream, client, oneWay, maxWindow);
        client.resume();
        upstream.resume();
      }, options.delayMs),
    );
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : 0,
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { target: { type: 'string' }, delay: { type: 'string', default: '50' } } });
  const [host, port] = (values.target ?? '').split(':');
  if (!host || !port) {
    console.error('usage: wan-relay.ts --target HOST:PORT [--delay MS]');
    process.exit(2);
  }
  const maxWindow = kernelWindow();
  const relay = await startRelay({ target: { host, port: Number(port) }, delayMs: Number(values.delay), maxWindow });
  console.log(JSON.stringify({ port: relay.port, maxWindow }));
  process.on('SIGTERM', () => relay.close().then(() => process.exit(0)));
}
