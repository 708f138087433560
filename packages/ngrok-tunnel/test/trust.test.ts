/**
 * The internet is not trusted by the tunnel: what it may post is bounded, only the webhook paths are forwarded,
 * the caller never learns where the upstream is, secrets never reach a command line, the Twilio check sees the
 * session's public URL, and a second SIGTERM leaves a consistent state. Real servers on loopback, the real CLI.
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin } from '../../../tools/testing/cli.ts';
import { parseSecrets, upstreamWithPassword } from '../src/config.ts';
import { Deliveries } from '../src/deliveries.ts';
import { MAX_STREAM_BUFFER, startInspector, TOKEN_HEADER } from '../src/inspector.ts';
import { MAX_CONNECTIONS, MAX_PER_PEER, normalisePath, peerOf, startProxy } from '../src/proxy.ts';
import { RequestLog } from '../src/request-log.ts';
import type { Clock, TunnelDriver } from '../src/supervisor.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'airy-tunnel-trust-'));
const seen: { path?: string; auth?: string }[] = [];
const upstream = createServer((req, res) => {
  seen.push({ path: req.url, auth: req.headers.authorization });
  req.resume();
  req.on('end', () => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok'));
});
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const upstreamPort = (upstream.address() as AddressInfo).port;
const target = `http://127.0.0.1:${upstreamPort}`;

function send(
  url: string,
  init: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'POST', headers: init.headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

test('only the webhook paths are forwarded by default, judged on the path with its dot segments resolved', async () => {
  const deliveries = new Deliveries();
  const proxy = await startProxy(target, new RequestLog(join(dir, 'paths.jsonl')), { deliveries });
  try {
    seen.length = 0;
    for (const path of ['/control-center/', '/client.config', '/facebook/../client.config', '/facebook/%2e%2e/users.list', '/twilio/./../x', '/']) {
      const res = await send(`${proxy.address}${path}`);
      assert.is(res.status, 404, path);
      assert.match(res.body, /only the webhook paths are forwarded/);
    }
    assert.equal(seen, [], 'the UI and the API were never reached');
    assert.is((await send(`${proxy.address}/facebook`)).status, 200);
    assert.is((await send(`${proxy.address}/google/./events?x=1`)).status, 200);
    assert.equal(
      seen.map((s) => s.path),
      ['/facebook', '/google/events?x=1'],
    );
    // Labels follow the resolved path: /facebook/../client.config is not Facebook.
    const labels = deliveries.list().map((d) => [d.path, d.source ?? '-', d.status]);
    assert.equal(labels[2], ['/client.config', '-', 404]);
    assert.equal(labels.at(-1), ['/google/events?x=1', 'google', 200]);
    assert.is(normalisePath('http://elsewhere/facebook/../x?y'), '/x?y');
    assert.is(normalisePath('//host/x'), '//host/x');
  } finally {
    await proxy.close();
  }
  const open = await startProxy(target, new RequestLog(join(dir, 'all.jsonl')), { forwardAll: true });
  try {
    assert.is((await send(`${open.address}/client.config`)).status, 200, '--forward-all opens the rest');
  } finally {
    await open.close();
  }
});

test('a failed forward never tells the caller where the upstream is; credentials in --to are sent, never shown', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const down = await startProxy(`http://admin:secret@127.0.0.1:${port}`, new RequestLog(join(dir, 'down.jsonl')));
  try {
    const res = await send(`${down.address}/facebook`);
    assert.is(res.status, 502);
    assert.is(res.body, 'airy-tunnel: the platform did not answer\n');
    assert.not.match(res.body, /secret|admin|127\.0\.0\.1|ECONNREFUSED/);
  } finally {
    await down.close();
  }
  const withAuth = await startProxy(`http://admin:s%40cret@127.0.0.1:${upstreamPort}`, new RequestLog(join(dir, 'auth.jsonl')));
  try {
    seen.length = 0;
    assert.is((await send(`${withAuth.address}/facebook`)).status, 200);
    assert.is(seen[0]?.auth, `Basic ${Buffer.from('admin:s@cret').toString('base64')}`);
  } finally {
    await withAuth.close();
  }
});

test('what the public may post is bounded: bodies kept by bytes, each and in all; a body too large to keep says so', async () => {
  const deliveries = new Deliveries({ bodyBytes: 64 * 1024, totalBytes: 512 * 1024 });
  const proxy = await startProxy(target, new RequestLog(join(dir, 'bounded.jsonl')), { deliveries });
  try {
    const big = Buffer.alloc(100 * 1024, 0x61);
    const small = Buffer.alloc(40 * 1024, 0x62);
    assert.is((await send(`${proxy.address}/facebook`, { body: big })).status, 200, 'a large webhook is still forwarded');
    for (let i = 0; i < 40; i++) await send(`${proxy.address}/facebook`, { body: small });
    assert.ok(deliveries.heldBytes <= 512 * 1024, `${deliveries.heldBytes} bytes held`);
    const [first] = deliveries.list();
    assert.match(first?.notReplayable ?? '', /too large to replay: 102400 bytes/);
    assert.ok(deliveries.list().some((d) => /dropped to keep the inspector's memory bounded/.test(d.notReplayable ?? '')));
    assert.not.ok(deliveries.list().at(-1)?.notReplayable, 'the newest is kept');
    // The inspector refuses the replay of a delivery it kept no body of, saying why.
    const inspector = await startInspector({ deliveries, replay: async () => 0, proxyAddress: proxy.address, port: 0 });
    try {
      const refused = await send(`${inspector.address}/api/deliveries/${first?.id}/replay`, { headers: { [TOKEN_HEADER]: inspector.token } });
      assert.is(refused.status, 409);
      assert.match(refused.body, /too large to replay/);
    } finally {
      await inspector.close();
    }
    const over = await send(`${proxy.address}/facebook`, { body: Buffer.alloc(4 * 2 ** 20 + 1) });
    assert.is(over.status, 413);
  } finally {
    await proxy.close();
  }
});

test('an event stream that is never read is dropped once its buffer is full, not grown without bound', async () => {
  const deliveries = new Deliveries({ bodyBytes: 0 });
  const inspector = await startInspector({ deliveries, replay: async () => undefined, proxyAddress: 'http://127.0.0.1:1', port: 0 });
  try {
    const req = request(`${inspector.address}/api/events`, { headers: { Host: '127.0.0.1', [TOKEN_HEADER]: inspector.token } }, (res) => {
      // Never read: pause, and let the socket's buffers fill.
      res.pause();
    });
    req.on('error', () => undefined);
    req.end();
    for (let i = 0; i < 50 && inspector.streamCount() === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.is(inspector.streamCount(), 1);
    const closedByServer = () => inspector.streamCount() === 0;
    const headers = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`x-h${i}`, 'v'.repeat(400)]));
    const delivery = {
      time: new Date().toISOString(),
      method: 'POST',
      path: '/facebook',
      status: 200,
      latencyMs: 1,
      requestHeaders: headers,
      responseHeaders: {},
      raw: { path: '/facebook', headers: {}, body: Buffer.alloc(0) },
    };
    // About 16 KiB an event, up to 64 MiB: past the bound and past what the kernel's socket buffers hold (loopback
    // autotuning takes several MiB before Node has to keep any of it).
    const events = Math.ceil((MAX_STREAM_BUFFER * 64) / 16_000);
    for (let i = 0; i < events && !closedByServer(); i++) {
      deliveries.add(delivery);
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(closedByServer(), 'the stalled stream was dropped');
    req.destroy();
  } finally {
    await inspector.close();
  }
});

test('secrets never reach the command line: the flags are refused in one line without echoing the secret; env and --secrets-file work', () => {
  for (const flag of ['--facebook-app-secret', '--twilio-auth-token']) {
    const run = runBin(packageDir, ['start', '--no-ngrok', flag, 's3cr3t-value', '--state-dir', join(dir, 'refused')]);
    assert.is(run.status, 2, run.stderr);
    const line = run.stderr.trim();
    assert.is(line.split('\n').length, 1, line);
    assert.match(line, /would show the secret to every user of this machine .*--secrets-file/);
    assert.not.match(line + run.stdout, /s3cr3t-value/);
  }
  assert.equal(parseSecrets("# mine\nFACEBOOK_APP_SECRET=abc\nTWILIO_AUTH_TOKEN='t0k'\n\n"), {
    FACEBOOK_APP_SECRET: 'abc',
    TWILIO_AUTH_TOKEN: 't0k',
  });
  assert.throws(
    () => parseSecrets('FACEBOOK_APP_SECRET=abc\nAWS_SECRET=do-not-show\n'),
    (e: Error) => /^line 2 is not/.test(e.message) && !e.message.includes('do-not-show'),
  );
  const file = join(dir, 'secrets');
  writeFileSync(file, 'OTHER=leak-me\n', { mode: 0o600 });
  const bad = runBin(packageDir, ['start', '--no-ngrok', '--secrets-file', file, '--state-dir', join(dir, 'refused')]);
  assert.is(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /--secrets-file .*: line 1 is not FACEBOOK_APP_SECRET=… or TWILIO_AUTH_TOKEN=…/);
  assert.not.match(bad.stderr, /leak-me/);
});

test("under ngrok, the Twilio check is given the session's public URL on each connect", async () => {
  const { start } = await import('../src/start.ts');
  const authToken = 'twilio-auth-token-for-tests';
  let forwardTo = '';
  const controller = new AbortController();
  const driver: TunnelDriver = {
    async open(options) {
      forwardTo = options.forwardTo;
      return { url: 'https://abc123.ngrok.app', close: async () => undefined };
    },
  };
  const clock: Clock = { now: () => Date.now(), random: () => 0.5, sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 10))) };
  const printed: string[] = [];
  const running = start({
    target,
    token: 'tok_for_tests_0123456789',
    files: { state: join(dir, 'twilio.json'), log: join(dir, 'twilio.jsonl') },
    logBodies: false,
    secrets: { twilioAuthToken: authToken },
    driver,
    clock,
    signal: controller.signal,
    print: (l) => printed.push(l),
    log: () => undefined,
    inspectorPort: 0,
  });
  try {
    for (let i = 0; i < 100 && !printed.some((l) => l.startsWith('public URL')); i++) await new Promise((r) => setTimeout(r, 20));
    const opened = new URL(printed.find((l) => l.startsWith('inspector: '))?.slice('inspector: '.length) ?? '');
    // Twilio signs the URL it called, the public one, with the form's parameters sorted.
    const form = 'Body=hello&From=%2B15551234567';
    const url = 'https://abc123.ngrok.app/twilio';
    const data = `${url}Body${'hello'}From${'+15551234567'}`;
    const signature = createHmac('sha1', authToken).update(data).digest('base64');
    const res = await send(`${forwardTo}/twilio`, {
      body: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    });
    assert.is(res.status, 200);
    const token = new URLSearchParams(opened.hash.slice(1)).get('token') ?? '';
    const listed = JSON.parse((await send(`${opened.origin}/api/deliveries`, { method: 'GET', headers: { [TOKEN_HEADER]: token } })).body);
    assert.is(listed.at(-1).source, 'twilio');
    assert.is(listed.at(-1).signature.valid, true, listed.at(-1).signature.reason);
  } finally {
    controller.abort();
    await running;
  }
});

test('a password in --to is refused in one line (the process list shows it), never echoed; given apart it is sent, never on a command line', async () => {
  const password = 'hunter2-upstream-pw';
  const bin = join(packageDir, 'bin/airy-tunnel.js');
  const { FORCE_COLOR: _color, ...quiet } = process.env;
  const refused = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, 'start', '--no-ngrok', '--to', `http://admin:${password}@127.0.0.1:${upstreamPort}`, '--state-dir', join(dir, 'pw-refused')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...quiet, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // A guard, not a measure: the code before this fix started the tunnel and ran on until stopped.
    const guard = setTimeout(() => child.kill('SIGTERM'), 15_000);
    child.on('close', (status) => {
      clearTimeout(guard);
      resolve({ status, stdout, stderr });
    });
  });
  assert.is(refused.status, 2, refused.stderr);
  assert.is(refused.stderr.trimEnd().split('\n').length, 1, refused.stderr);
  assert.match(refused.stderr, /--to http:\/\/127\.0\.0\.1:\d+\/: a password on the command line is seen by every user of this machine \(the process list\): give --to http:\/\/USER@host and the password in AIRY_TUNNEL_TO_PASSWORD/);
  assert.not.ok(refused.stderr.includes(password) || refused.stdout.includes(password), 'the password is not echoed');

  for (const [how, env, extra] of [
    ['environment', { AIRY_TUNNEL_TO_PASSWORD: `${password}@x` }, []],
    ['secrets file', {}, ['--secrets-file', join(dir, 'pw-secrets')]],
  ] as const) {
    writeFileSync(join(dir, 'pw-secrets'), `TO_PASSWORD=${password}@x\n`, { mode: 0o600 });
    const stateDir = join(dir, `pw-${how.replace(' ', '-')}`);
    const child = spawn(process.execPath, [bin, 'start', '--no-ngrok', '--to', `http://admin@127.0.0.1:${upstreamPort}`, '--state-dir', stateDir, '--inspector-port', '0', ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...quiet, NO_COLOR: '1', ...env },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      for (let i = 0; i < 200 && !existsSync(join(stateDir, 'state.json')); i++) await new Promise((r) => setTimeout(r, 25));
      const proxy = /^proxy: (\S+)$/m.exec(out)?.[1] ?? '';
      seen.length = 0;
      assert.is((await send(`${proxy}/facebook`, { body: '{}' })).status, 200, `${how}: ${out}`);
      assert.is(seen.at(-1)?.auth, `Basic ${Buffer.from(`admin:${password}@x`).toString('base64')}`, `${how}: the upstream gets Basic auth`);
      assert.not.ok(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').includes(password), `${how}: not in the process list`);
      assert.not.ok(readFileSync(join(stateDir, 'state.json'), 'utf8').includes(password), `${how}: not stored`);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    assert.not.ok(out.includes(password), `${how}: not shown`);
  }
  assert.throws(() => upstreamWithPassword('http://127.0.0.1:1', 'pw'), /names no user: give --to http:\/\/USER@host/);
  assert.is(upstreamWithPassword('http://u@h:1/', 'p@ss word'), 'http://u:p%40ss%20word@h:1/');
  assert.is(upstreamWithPassword('http://u@h:1/', undefined), 'http://u@h:1/');
});

test('a second SIGTERM during shutdown leaves state.json saying stopped and no temporary file; credentials are not in it', async () => {
  const stateDir = join(dir, 'twice');
  const child = spawn(
    process.execPath,
    [
      join(packageDir, 'bin/airy-tunnel.js'),
      'start',
      '--no-ngrok',
      '--to',
      `http://admin@127.0.0.1:${upstreamPort}`,
      '--public-url',
      'https://me:pw@tunnel.example.com',
      '--state-dir',
      stateDir,
      '--inspector-port',
      '0',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AIRY_TUNNEL_TO_PASSWORD: 'secret' } },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const stateFile = join(stateDir, 'state.json');
  for (let i = 0; i < 200 && !existsSync(stateFile); i++) await new Promise((r) => setTimeout(r, 25));
  const online = JSON.parse(readFileSync(stateFile, 'utf8'));
  assert.is(online.state, 'online');
  assert.not.match(JSON.stringify(online), /secret|:pw@|admin/);
  const status = runBin(packageDir, ['status', '--state-dir', stateDir]);
  assert.not.match(status.stdout, /secret|:pw@|admin/);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.kill('SIGTERM');
  child.kill('SIGTERM');
  await exited;
  const after = JSON.parse(readFileSync(stateFile, 'utf8'));
  assert.is(after.state, 'stopped', stderr);
  assert.equal(
    readdirSync(stateDir).filter((f) => f.includes('.tmp-')),
    [],
  );
});

/** A connection that sends `request` a byte every `everyMs`; `answer` is what it got back, `closed` when it ended. */
interface Trickle {
  readonly socket: Socket;
  answer: string;
  readonly closed: Promise<void>;
  /** Whether it had sent its whole request when it was closed. */
  sentAll: boolean;
}

async function trickle(address: string, request: string, everyMs: number, upfront = 0): Promise<Trickle> {
  const { hostname, port } = new URL(address);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  const t: Trickle = { socket, answer: '', sentAll: false, closed: new Promise((r) => socket.once('close', () => r())) };
  socket.on('data', (d: Buffer) => {
    t.answer += d;
  });
  let at = upfront;
  socket.write(request.slice(0, Math.max(1, upfront)));
  at = Math.max(1, upfront);
  const timer = setInterval(() => {
    if (socket.destroyed || at >= request.length) {
      t.sentAll = at >= request.length;
      clearInterval(timer);
      return;
    }
    socket.write(request[at++] as string);
  }, everyMs);
  void t.closed.then(() => clearInterval(timer));
  return t;
}

const slowPost = (headers: string, body: string) =>
  `POST /facebook HTTP/1.1\r\nHost: airy\r\nContent-Type: application/json\r\n${headers}Content-Length: ${body.length}\r\n\r\n${body}`;

test('slow senders: 130 connections trickling their headers are closed in bounded time and real deliveries are served meanwhile', async () => {
  const before = seen.length;
  const proxy = await startProxy(target, new RequestLog(join(dir, 'slow-headers.jsonl')), { limits: { headersMs: 2000 } });
  const slow: Trickle[] = [];
  try {
    // Two more than the proxy keeps open: each sends a byte every 2 s (a request takes minutes at that pace).
    for (let i = 0; i < MAX_CONNECTIONS + 2; i++) slow.push(await trickle(proxy.address, slowPost('', '{"slow":true}'), 2000));
    // The proxy is full: the two it had no room for (or the oldest it closed for them) are gone.
    for (let i = 0; i < 200 && slow.filter((t) => t.socket.destroyed).length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    const real = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        send(`${proxy.address}/facebook`, { body: `{"real":${i}}`, headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.7' } }).catch(
          (e: Error) => ({ status: 0, body: e.message }),
        ),
      ),
    );
    assert.equal(
      real.map((r) => r.status),
      [200, 200, 200, 200, 200],
      `real deliveries while ${slow.filter((t) => !t.socket.destroyed).length} slow connections are open: ${real.map((r) => r.body).join(' | ')}`,
    );
    // Bounded in time: every slow connection is closed by the proxy long before it could finish its request.
    await Promise.all(slow.map((t) => t.closed));
    assert.not.ok(slow.some((t) => t.sentAll || t.answer.startsWith('HTTP/1.1 200')), 'no slow sender got its request through');
    assert.is(seen.length - before, 5, 'the upstream saw the real deliveries only');
  } finally {
    for (const t of slow) t.socket.destroy();
    await proxy.close();
  }
});

test('slow senders: one peer trickling bodies holds at most its share of connections, each for bounded time; others are served', async () => {
  const before = seen.length;
  const proxy = await startProxy(target, new RequestLog(join(dir, 'slow-bodies.jsonl')), { limits: { bodyMs: 2000 } });
  const slow: Trickle[] = [];
  try {
    // Through the tunnel one caller is its X-Forwarded-For: headers at once, then the body a byte every 2 s.
    const request = slowPost('X-Forwarded-For: 203.0.113.9\r\n', `{"slow":"${'x'.repeat(64)}"}`);
    const headerEnd = request.indexOf('\r\n\r\n') + 4;
    for (let i = 0; i < 40; i++) slow.push(await trickle(proxy.address, request, 2000, headerEnd));
    for (let i = 0; i < 300 && slow.filter((t) => t.answer.startsWith('HTTP/1.1 429')).length < 40 - MAX_PER_PEER; i++) await new Promise((r) => setTimeout(r, 10));
    const refused = slow.filter((t) => t.answer.startsWith('HTTP/1.1 429'));
    assert.is(refused.length, 40 - MAX_PER_PEER, 'past its share, a peer is answered 429 at once');
    const other = await send(`${proxy.address}/facebook`, { body: '{"real":1}', headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.7' } });
    assert.is(other.status, 200, 'another peer is served');
    const local = await send(`${proxy.address}/facebook`, { body: '{"real":2}', headers: { 'content-type': 'application/json' } });
    assert.is(local.status, 200, 'and so is a sender with no X-Forwarded-For');
    await Promise.all(slow.map((t) => t.closed));
    const held = slow.filter((t) => !t.answer.startsWith('HTTP/1.1 429'));
    assert.is(held.length, MAX_PER_PEER);
    assert.ok(
      held.every((t) => t.answer.startsWith('HTTP/1.1 408') && !t.sentAll),
      held.map((t) => t.answer.split('\r\n')[0]).join(', '),
    );
    assert.is(seen.length - before, 2, 'no slow body reached the upstream');
  } finally {
    for (const t of slow) t.socket.destroy();
    await proxy.close();
  }
});

test('peerOf: the last X-Forwarded-For entry (the one the tunnel appended), else the socket', () => {
  assert.is(peerOf({ 'x-forwarded-for': '10.0.0.1, 203.0.113.9' }, '127.0.0.1'), '203.0.113.9');
  assert.is(peerOf({}, '127.0.0.1'), '127.0.0.1');
  assert.is(peerOf({ 'x-forwarded-for': ' ' }, '::1'), '::1');
});

test.after(async () => {
  await new Promise((r) => upstream.close(r));
  rmSync(dir, { recursive: true, force: true });
});
test.run();
