import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTunnelState, writeTunnelState } from '@airy/cli-kit';
import { validateDocuments } from '@airy/manifests';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { startProxy, upstreamPath } from '../src/proxy.ts';
import { publicUrlsConfigMap } from '../src/publish-urls.ts';
import { LOG_BYTES, LOG_ENTRIES, RequestLog } from '../src/request-log.ts';

const dir = mkdtempSync(join(tmpdir(), 'airy-tunnel-'));
const seen: { host?: string; path?: string; signature?: string }[] = [];
const upstream = createServer((req, res) => {
  seen.push({ host: req.headers.host, path: req.url, signature: req.headers['x-hub-signature-256'] as string });
  req.resume();
  req.on('end', () => res.writeHead(req.url?.startsWith('/twilio') ? 500 : 200, { 'Content-Type': 'text/plain' }).end('ok'));
});
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

function post(url: string, path: string, body: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('the proxy forwards to the upstream and logs method, path, status and latency; secrets are redacted', async () => {
  const log = new RequestLog(join(dir, 'a.jsonl'));
  const proxy = await startProxy(target, log);
  try {
    assert.is(await post(proxy.address, '/facebook?hub.verify_token=s3cret&hub.mode=subscribe', '{"a":1}', { 'X-Hub-Signature-256': 'sha256=abcdef', Authorization: 'Bearer xyz' }), 200);
    assert.is(await post(proxy.address, '/twilio', 'Body=hi'), 500);
    await new Promise((r) => setTimeout(r, 50));
    const [first, second] = await log.read();
    assert.is(first?.method, 'POST');
    assert.is(first?.path, '/facebook?hub.verify_token=[redacted]&hub.mode=subscribe');
    assert.is(first?.status, 200);
    assert.ok((first?.latencyMs ?? -1) >= 0);
    assert.is(first?.headers['x-hub-signature-256'], '[redacted]');
    assert.is(first?.headers.authorization, '[redacted]');
    assert.is(first?.body, undefined, 'bodies are not recorded unless asked');
    assert.is(second?.status, 500);
    // The upstream got the original request, signature included: only the log is redacted.
    assert.is(seen[0]?.signature, 'sha256=abcdef');
    assert.is(seen[0]?.host, new URL(target).host);
    assert.is(statSync(log.path).mode & 0o777, 0o600, 'the request log is private');
    const text = readFileSync(log.path, 'utf8');
    assert.not.ok(text.includes('s3cret') || text.includes('abcdef') || text.includes('xyz'));
  } finally {
    await proxy.close();
  }
});

test('bodies are recorded when asked; an upstream that does not answer gives 502, logged', async () => {
  const log = new RequestLog(join(dir, 'b.jsonl'));
  const proxy = await startProxy(target, log, { logBodies: true });
  const dead = await startProxy('http://127.0.0.1:1', log);
  try {
    await post(proxy.address, '/google', '{"message":"hello"}');
    assert.is(await post(dead.address, '/google', '{}'), 502);
    await new Promise((r) => setTimeout(r, 50));
    const entries = await log.read();
    assert.is(entries[0]?.body, '{"message":"hello"}');
    assert.is(entries[1]?.status, 502);
  } finally {
    await proxy.close();
    await dead.close();
  }
});

/** Sends one raw HTTP/1.1 request line, as a hostile client would, and returns the status code. */
function rawRequest(address: string, requestTarget: string): Promise<number> {
  const { port } = new URL(address);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(`GET ${requestTarget} HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n`));
    let answer = '';
    socket.on('data', (d) => {
      answer += d;
    });
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.on('error', reject);
  });
}

test('the proxy only ever reaches its upstream: other hosts in the request line or path are never contacted', async () => {
  const elsewhere: string[] = [];
  const other = createServer((req, res) => {
    elsewhere.push(req.url ?? '');
    res.end('other');
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  const otherHost = `127.0.0.1:${(other.address() as AddressInfo).port}`;
  // Every path is forwarded here (--forward-all), so that the origin, not the path filter, is what is tested.
  const proxy = await startProxy(target, new RequestLog(join(dir, 'ssrf.jsonl')), { forwardAll: true });
  try {
    seen.length = 0;
    const targets = [`//${otherHost}/x`, `/\\${otherHost}/x`, `http://${otherHost}/x?y=1`, `/%2F%2F${otherHost}/x`];
    for (const requestTarget of targets) assert.is(await rawRequest(proxy.address, requestTarget), 200, requestTarget);
    // Node's parser refuses a request target that is neither a path nor a URL.
    assert.is(await rawRequest(proxy.address, `@${otherHost}/x`), 400);
    assert.equal(elsewhere, [], 'the other server was reached');
    assert.is(seen.length, targets.length);
    for (const s of seen) assert.is(s.host, new URL(target).host);
    assert.equal(
      seen.map((s) => s.path),
      [
        `//${otherHost}/x`,
        // A backslash is a slash to a URL parser: still a path on the upstream.
        `//${otherHost}/x`,
        '/x?y=1',
        `/%2F%2F${otherHost}/x`,
      ],
    );
  } finally {
    await proxy.close();
    await new Promise((r) => other.close(r));
  }
});

test('an upstream with a base path keeps it; only path and query come from the request', () => {
  assert.is(upstreamPath(new URL('http://127.0.0.1:8080/api/'), '/facebook?x=1'), '/api/facebook?x=1');
  assert.is(upstreamPath(new URL('http://127.0.0.1:8080'), 'http://evil.test:1/a?b'), '/a?b');
});

test('the request log is bounded by entries and by bytes, after every record', async () => {
  const byCount = new RequestLog(join(dir, 'c.jsonl'), 10);
  for (let i = 0; i < 45; i++) {
    await byCount.record({ time: String(i), method: 'POST', path: `/p${i}`, status: 200, latencyMs: 1, headers: {} });
    assert.ok((await byCount.read()).length <= 12, 'at most the bound and a quarter');
  }
  assert.is((await byCount.read()).at(-1)?.path, '/p44', 'the newest are kept');
  // Bodies make entries large: the byte bound holds whatever the count.
  const bySize = new RequestLog(join(dir, 'd.jsonl'), 1000, 64 * 1024);
  for (let i = 0; i < 60; i++) {
    await bySize.record({ time: String(i), method: 'POST', path: `/p${i}`, status: 200, latencyMs: 1, headers: {}, body: 'x'.repeat(5000) });
    assert.ok(statSync(bySize.path).size <= 64 * 1024, `${statSync(bySize.path).size} bytes after ${i + 1} records`);
  }
  const kept = await bySize.read();
  assert.is(kept.at(-1)?.path, '/p59');
  assert.ok(kept.length >= 9, `${kept.length} entries kept: the cut keeps three quarters of the bytes`);
  assert.is(statSync(bySize.path).mode & 0o777, 0o600);
  assert.is(LOG_ENTRIES, 1000);
});

test('trimming a full request log takes little memory: a 131 MB log left at 2,000 entries is cut in a process with a 64 MiB heap', () => {
  // What an earlier version let the log grow to: 2,000 entries with 64 KiB bodies.
  const path = join(dir, 'big.jsonl');
  const line = `${JSON.stringify({ time: 't', method: 'POST', path: '/facebook', status: 200, latencyMs: 1, headers: {}, body: 'b'.repeat(64 * 1024) })}\n`;
  writeFileSync(path, line.repeat(2000), { mode: 0o600 });
  const script = [
    `import { RequestLog } from ${JSON.stringify(new URL('../src/request-log.ts', import.meta.url).pathname)};`,
    `const log = new RequestLog(${JSON.stringify(path)});`,
    "await log.record({ time: 'now', method: 'POST', path: '/facebook/new', status: 200, latencyMs: 1, headers: {} });",
    // VmHWM: this process's own peak (getrusage's maxRSS would count the test runner it was forked from).
    "const { readFileSync } = await import('node:fs');",
    "process.stdout.write(JSON.stringify({ maxRssKiB: Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) }));",
  ].join('\n');
  const run = spawnSync(process.execPath, ['--max-old-space-size=64', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname });
  assert.is(run.status, 0, run.stderr.slice(-2000));
  console.log(`  trimming a ${(line.length * 2000 / 1e6).toFixed(0)} MB log: peak RSS ${Math.round(JSON.parse(run.stdout).maxRssKiB / 1024)} MiB`);
  const size = statSync(path).size;
  assert.ok(size <= LOG_BYTES, `${size} bytes left`);
  const tail = readFileSync(path, 'utf8').trimEnd().split('\n');
  assert.ok(tail.length <= LOG_ENTRIES, `${tail.length} entries left`);
  assert.is(JSON.parse(tail.at(-1) ?? '{}').path, '/facebook/new', 'the new entry is last');
});

test('the public-urls ConfigMap names every webhook URL', () => {
  const cm = publicUrlsConfigMap('airy', 'https://abc.ngrok.app/');
  assert.equal(cm.data, {
    PUBLIC_URL: 'https://abc.ngrok.app/',
    WEBHOOK_FACEBOOK_URL: 'https://abc.ngrok.app/facebook',
    WEBHOOK_GOOGLE_URL: 'https://abc.ngrok.app/google',
    WEBHOOK_TWILIO_URL: 'https://abc.ngrok.app/twilio',
  });
  assert.is(cm.metadata.namespace, 'airy');
});

test('the ConfigMap passes the Kubernetes schema (airy-manifests validate)', async () => {
  const object = parse(stringify(publicUrlsConfigMap('airy', 'https://abc.ngrok.app')));
  const report = await validateDocuments([{ file: 'public-urls.yaml', index: 0, object }]);
  assert.equal(report.problems, []);
  assert.equal(report.notes, []);
});

test('the state file: written atomically, and a dead process reads as stopped', async () => {
  const path = join(dir, 'state.json');
  const base = { startedAt: 1, reconnects: 2, target, webhooks: { facebook: 'https://x/facebook' }, url: 'https://x' };
  await writeTunnelState(path, { ...base, state: 'online', pid: process.pid });
  assert.is((await readTunnelState(path))?.state, 'online');
  assert.is(statSync(path).mode & 0o777, 0o600, 'the state file (its target may carry credentials) is private');
  // Written plainly: console.log colours a number when FORCE_COLOR is set, and the pid would not be one.
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  await writeTunnelState(path, { ...base, state: 'online', pid: Number(gone.stdout) });
  assert.is((await readTunnelState(path))?.state, 'stopped');
});

test.after(async () => {
  await new Promise((r) => upstream.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test.run();
