import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tunnelFiles } from '@airy/cli-kit';
import { checkFacebook, checkTwilio } from '../src/signatures.ts';
import { start } from '../src/start.ts';
import { systemClock } from '../src/supervisor.ts';
import { runBin, startBin } from '../../../tools/testing/cli.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'airy-inspector-'));
const FB_SECRET = 'fb-app-secret-for-tests';
const TWILIO_TOKEN = 'twilio-auth-token-for-tests';
const PUBLIC = 'https://hooks.example.test';

const upstreamSeen: { path: string; body: string }[] = [];
const upstream = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => {
    body += d;
  });
  req.on('end', () => {
    upstreamSeen.push({ path: req.url ?? '', body });
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
  });
});
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

/** One HTTP request; `host` overrides the Host header. */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const controller = new AbortController();
const printed: string[] = [];
const files = tunnelFiles(join(dir, 'state'));
const running = start({
  target,
  noNgrok: true,
  publicUrl: PUBLIC,
  secrets: { facebookAppSecret: FB_SECRET, twilioAuthToken: TWILIO_TOKEN },
  token: undefined,
  files,
  logBodies: true,
  clock: systemClock,
  signal: controller.signal,
  print: (l) => printed.push(l),
  log: (l) => printed.push(l),
});
// Up once the state file is written: after the addresses, the upstream's sources are asked, then the URLs said.
for (let i = 0; i < 250 && !existsSync(files.state); i++) await new Promise((r) => setTimeout(r, 20));
const proxy = (printed.find((l) => l.startsWith('proxy: ')) ?? '').slice('proxy: '.length);
// Printed for the owner: the address with the token after '#'.
const inspectorUrl = (printed.find((l) => l.startsWith('inspector: ')) ?? '').slice('inspector: '.length);
const inspector = inspectorUrl.replace(/\/#.*$/, '');
const token = new URLSearchParams(inspectorUrl.split('#')[1] ?? '').get('token') ?? '';
const deliveries = async () => JSON.parse((await send(`${inspector}/api/deliveries`, { headers: { 'x-airy-inspector-token': token } })).body) as { id: number; source?: string; status: number; signature?: { valid: boolean; reason: string }; replayOf?: number }[];

test('without ngrok: the proxy and the inspector print their addresses; the state file names the public URLs and the inspector', () => {
  assert.match(proxy, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.match(inspectorUrl, /^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{32}$/);
  assert.ok(printed.includes(`  facebook  ${PUBLIC}/facebook`), printed.join('\n'));
  const state = JSON.parse(readFileSync(files.state, 'utf8'));
  assert.is(state.webhooks.twilio, `${PUBLIC}/twilio`);
  assert.is(state.inspector, inspector);
  assert.not.ok(readFileSync(files.state, 'utf8').includes(FB_SECRET), 'secrets are never stored');
  assert.not.ok(readFileSync(files.state, 'utf8').includes(token), 'the inspector token is printed for the owner, never stored');
});

test('signatures: a Facebook delivery with a valid and with an invalid X-Hub-Signature-256, and a signed Twilio form', async () => {
  const body = '{"object":"page","entry":[]}';
  const good = `sha256=${createHmac('sha256', FB_SECRET).update(body).digest('hex')}`;
  assert.is((await send(`${proxy}/facebook`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': good }, body })).status, 200);
  assert.is((await send(`${proxy}/facebook`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` }, body })).status, 200);
  const form = new URLSearchParams({ From: '+15550001', Body: 'hello', To: '+15550002' });
  const signed = createHmac('sha1', TWILIO_TOKEN)
    .update(`${PUBLIC}/twilio${[...form.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => k + v).join('')}`)
    .digest('base64');
  await send(`${proxy}/twilio`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signed }, body: form.toString() });
  const list = await deliveries();
  assert.equal(list.slice(-3).map((d) => [d.source, d.signature?.valid]), [['facebook', true], ['facebook', false], ['twilio', true]]);
  assert.match(list.at(-2)?.signature?.reason ?? '', /does not match/);
  const page = (await send(`${inspector}/`)).body;
  assert.not.ok(page.includes(FB_SECRET) || page.includes(TWILIO_TOKEN) || JSON.stringify(list).includes(FB_SECRET), 'secrets are never shown');
});

test('every API call needs the token, which no page serves: another local user reads no delivery and replays nothing', async () => {
  const body = '{"message":"a private message"}';
  assert.is((await send(`${proxy}/facebook`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })).status, 200);
  const [first] = await deliveries();
  const page = (await send(`${inspector}/`)).body;
  assert.not.ok(page.includes(token), 'the page does not carry the token');
  const before = upstreamSeen.length;
  for (const [method, path] of [
    ['GET', '/api/deliveries'],
    ['GET', `/api/deliveries/${first?.id}`],
    ['GET', '/api/events'],
    ['POST', `/api/deliveries/${first?.id}/replay`],
  ] as const) {
    for (const headers of [{}, { 'x-airy-inspector-token': 'wrong' }, { 'x-airy-inspector-token': token.slice(1) }] as Record<string, string>[]) {
      const res = await send(`${inspector}${path}`, { method, headers });
      assert.is(res.status, 401, `${method} ${path} ${JSON.stringify(headers)}: ${res.body}`);
      assert.not.ok(res.body.includes('a private message'), `${method} ${path} gave a body away`);
      assert.match(res.body, /needs its token in x-airy-inspector-token: open the inspector with the address airy-tunnel start printed/);
    }
  }
  assert.is(upstreamSeen.length, before, 'no replay without the token');
  const events = await new Promise<{ status: number; first: string }>((resolve, reject) => {
    const req = request(`${inspector}/api/events`, { headers: { 'x-airy-inspector-token': token } }, (res) => {
      res.once('data', (d: Buffer) => {
        resolve({ status: res.statusCode ?? 0, first: String(d) });
        req.destroy();
      });
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(events, { status: 200, first: ': connected\n\n' }, 'with the token the live events flow');
});

test('replay: with the page token it reaches the upstream again and is listed as a replay; without it, or cross-origin, or rebound, nothing happens', async () => {
  const [first] = await deliveries();
  const before = upstreamSeen.length;
  const url = `${inspector}/api/deliveries/${first?.id}/replay`;
  const { port } = new URL(inspector);
  assert.is((await send(url, { method: 'POST' })).status, 401);
  assert.is((await send(url, { method: 'POST', headers: { 'x-airy-inspector-token': 'wrong' } })).status, 401);
  assert.is((await send(url, { method: 'POST', headers: { 'x-airy-inspector-token': token, Origin: 'http://evil.test' } })).status, 403);
  assert.is((await send(url, { method: 'POST', headers: { 'x-airy-inspector-token': token, Host: `evil.test:${port}` } })).status, 403);
  assert.is((await send(`${inspector}/api/deliveries`, { headers: { Host: 'rebound.evil.test' } })).status, 403, 'DNS rebinding: a foreign Host gets nothing');
  assert.is(upstreamSeen.length, before, 'no refused replay reached the upstream');
  const ok = await send(url, { method: 'POST', headers: { 'x-airy-inspector-token': token, Origin: `http://localhost:${port}` } });
  assert.is(ok.status, 201, ok.body);
  assert.is(upstreamSeen.length, before + 1);
  assert.is(upstreamSeen.at(-1)?.body, '{"object":"page","entry":[]}', 'the same body again');
  const replayed = (await deliveries()).at(-1);
  assert.is(replayed?.replayOf, first?.id);
  assert.is(replayed?.signature?.valid, true, 'a replay carries the original signature');
});

test('the signature checks on their own', () => {
  assert.is(checkFacebook('s', Buffer.from('x'), undefined).valid, false);
  assert.match(checkFacebook('s', Buffer.from('x'), 'md5=abc').reason, /not sha256=/);
  assert.is(checkTwilio('t', 'https://a/b', undefined, 'nope').valid, false);
});

test('airy-tunnel start --no-ngrok --to URL prints the proxy and inspector addresses, stops on SIGTERM with exit 143, and status then says stopped', async () => {
  const child = startBin(packageDir, ['start', '--no-ngrok', '--to', target, '--state-dir', join(dir, 'cli'), '--inspector-port', '0'], { env: { NGROK_AUTHTOKEN: '' } });
  await child.until(/inspector: /);
  child.kill('SIGTERM');
  const code = await child.closed;
  const out = child.out();
  assert.match(out, /^proxy: http:\/\/127\.0\.0\.1:\d+$/m);
  assert.match(out, /^inspector: http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{32}$/m);
  assert.match(out, /local URL \(no public tunnel\): http:\/\/127\.0\.0\.1:\d+/);
  assert.is(code, 143, 'SIGTERM: the documented 143, after a clean stop');
  const status = runBin(packageDir, ['status', '--state-dir', join(dir, 'cli')]);
  assert.is(status.status, 0, status.stderr);
  assert.match(status.stdout, /^state: stopped: no tunnel is running/);
  assert.not.match(status.stdout, /healthy|uptime/, 'a stopped tunnel has no upstream it checks');
});

test('airy-tunnel start ends with 130 on Ctrl-C (SIGINT)', async () => {
  const child = startBin(packageDir, ['start', '--no-ngrok', '--to', target, '--state-dir', join(dir, 'cli-int'), '--inspector-port', '0'], { env: { NGROK_AUTHTOKEN: '' } });
  await child.until(/inspector: /);
  child.kill('SIGINT');
  assert.is(await child.closed, 130);
});

test.after(async () => {
  controller.abort();
  await running;
  await new Promise((r) => upstream.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test.run();
