#!/usr/bin/env tsx
/**
 * Load on the tunnel's proxy: a few thousand webhook deliveries at a few hundred per second through the real
 * `airy-tunnel start --no-ngrok` to a real upstream on loopback, and the same load through a minimal Node reverse
 * proxy (the peer: `http.request` piped to the upstream, no logging, no inspector, no checks), in one run. Printed:
 * throughput, p50/p99 latency and peak RSS for both, and the deliveries sent, forwarded (counted by the upstream)
 * and recorded by the inspector (its delivery ids; it lists the last 500). None may be lost: the benchmark fails
 * when a count differs.
 *
 * Usage: npx projen bench:tunnel   (BENCH_DELIVERIES=N, BENCH_RATE=per second; defaults 3000 and 300)
 * Loopback only; the load is bounded in count and time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, printTable } from './table.ts';

const deliveries = Number(process.env.BENCH_DELIVERIES ?? 3000);
const rate = Number(process.env.BENCH_RATE ?? 300);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'airy-bench-tunnel-'));

/** The upstream: the platform's ingress stand-in, answering 200 after reading the body; it counts the webhooks (not the tunnel's health probe). */
async function startUpstream() {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST') received++;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received: () => received, close: () => new Promise((r) => server.close(r)) };
}

/** The peer, in a process of its own like ours: a minimal reverse proxy. */
const PEER = `
const http = require('node:http');
const target = new URL(process.argv[1]);
const server = http.createServer((req, res) => {
  const up = http.request({ hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  up.on('error', () => { res.writeHead(502).end(); });
  req.pipe(up);
});
server.listen(0, '127.0.0.1', () => console.log('proxy: http://127.0.0.1:' + server.address().port));
`;

/** Starts a proxy process and resolves to its address (its first "proxy:" line) and the inspector's, if any. */
function startProxyProcess(command: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; proxy: string; inspector?: string }> {
  const child = spawn(command[0] as string, command.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command.join(' ')} did not start: ${out}`)), 20_000);
    child.stdout?.on('data', (d) => {
      out += d;
      const proxy = /proxy: (\S+)/.exec(out)?.[1];
      const inspector = /inspector: (\S+)/.exec(out)?.[1];
      if (proxy && (inspector || !command.includes('start'))) {
        clearTimeout(timer);
        resolve({ child, proxy, ...(inspector ? { inspector } : {}) });
      }
    });
    child.on('exit', (code) => reject(new Error(`${command.join(' ')} exited ${code}: ${out}`)));
  });
}

/** Peak resident memory of a process so far (VmHWM), MiB. */
const peakRss = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** Sends `deliveries` Facebook-signed webhooks at `rate` per second; returns each latency and how many got 200. */
async function load(proxy: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const latencies: number[] = [];
  let ok = 0;
  const body = JSON.stringify({ object: 'page', entry: [{ id: '1', time: Date.now(), messaging: [{ message: { text: 'x'.repeat(512) } }] }] });
  const signature = `sha256=${createHmac('sha256', 'bench-secret').update(body).digest('hex')}`;
  const send = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const req = request(`${proxy}/facebook`, { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': signature } }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - started);
          if (res.statusCode === 200) ok++;
          resolve();
        });
      });
      req.on('error', () => resolve());
      req.end(body);
    });
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < deliveries; i++) {
    // Paced: delivery i leaves at i / rate seconds.
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(send());
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { ok, perSecond: ok / seconds, p50: at(0.5), p99: at(0.99) };
}

async function run(label: string, command: string[], env: NodeJS.ProcessEnv = {}) {
  const upstream = await startUpstream();
  const { child, proxy, inspector } = await startProxyProcess([...command, upstream.url], env);
  try {
    const result = await load(proxy);
    const rss = peakRss(child.pid as number);
    let recorded: number | undefined;
    let listed: number | undefined;
    if (inspector) {
      // The printed address carries the inspector's token after '#'; every API call sends it.
      const opened = new URL(inspector);
      const token = new URLSearchParams(opened.hash.slice(1)).get('token') ?? '';
      const list = (await (await fetch(`${opened.origin}/api/deliveries`, { headers: { 'x-airy-inspector-token': token } })).json()) as { id: number }[];
      listed = list.length;
      recorded = list.at(-1)?.id ?? 0;
    }
    return { label, ...result, rss, forwarded: upstream.received(), recorded, listed };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await upstream.close();
  }
}

try {
  const tunnelBin = join(repo, 'packages/ngrok-tunnel/bin/airy-tunnel.js');
  const ours = await run('airy-tunnel', [process.execPath, tunnelBin, 'start', '--no-ngrok', '--state-dir', join(work, 'state'), '--inspector-port', '0', '--to'], {
    FACEBOOK_APP_SECRET: 'bench-secret',
  });
  const peer = await run('node proxy', [process.execPath, '-e', PEER]);
  printTable(`Tunnel proxy under load: ${deliveries} deliveries at ${rate}/s to a real upstream on loopback`, 'minimal Node reverse proxy', [
    { task: 'throughput', ours: ours.perSecond, peer: peer.perSecond, unit: '/s', lowerIsBetter: false },
    { task: 'latency p50', ours: ours.p50, peer: peer.p50, unit: 'ms', lowerIsBetter: true },
    { task: 'latency p99', ours: ours.p99, peer: peer.p99, unit: 'ms', lowerIsBetter: true },
    { task: 'peak RSS', ours: ours.rss, peer: peer.rss, unit: 'MiB', lowerIsBetter: true },
  ]);
  console.log(`\n| deliveries | sent | answered 200 | forwarded (upstream) | recorded (inspector ids) | listed (keeps 500) |`);
  console.log('|---|---|---|---|---|---|');
  for (const r of [ours, peer]) {
    console.log(`| ${r.label} | ${deliveries} | ${r.ok} | ${r.forwarded} | ${r.recorded ?? 'n/a'} | ${r.listed ?? 'n/a'} |`);
  }
  const lost = ours.ok !== deliveries || ours.forwarded !== deliveries || ours.recorded !== deliveries || ours.listed !== Math.min(500, deliveries);
  if (lost) {
    console.error(`bench:tunnel: deliveries were lost (sent ${deliveries}, answered ${ours.ok}, forwarded ${ours.forwarded}, recorded ${ours.recorded})`);
    process.exitCode = 1;
  } else console.log(`\nnone lost; ${machine()}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
