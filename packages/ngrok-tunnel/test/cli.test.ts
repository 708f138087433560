import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cliConventionTests, runBin, runBinAsync } from '../../../tools/testing/cli.ts';
import { findToken } from '../src/config.ts';
import { ExitCode } from '@airy/cli-kit';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const TOKEN = '2abcDEFghiJKLmnoPQRstuVWXyz_1234567890abcdefgh';
const dir = mkdtempSync(join(tmpdir(), 'airy-tunnel-cli-'));
const upstream = createServer((_req, res) => res.writeHead(200).end('ok'));
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
// No token from this machine's own ngrok config may leak into the tests.
const noConfig = { HOME: dir, NGROK_AUTHTOKEN: '' };

cliConventionTests(packageDir, { typo: 'strat', meant: 'start' });

test('start without a token: one line saying where to put it, exit 10', () => {
  const run = runBin(packageDir, ['start', '--to', target, '--state-dir', join(dir, 's0')], { env: noConfig });
  assert.is(run.status, ExitCode.tunnelMissingToken, run.stderr);
  assert.match(run.stderr, /^airy-tunnel: no ngrok authtoken: set NGROK_AUTHTOKEN.* \[TUNNEL_MISSING_TOKEN\]\n$/);
  assert.is(run.stderr.trimEnd().split('\n').length, 1);
});

test('a --secrets-file that cannot be read: one line with its reason, exit 2', () => {
  const run = runBin(packageDir, ['start', '--no-ngrok', '--to', target, '--secrets-file', join(dir, 'absent'), '--state-dir', join(dir, 's3')], { env: noConfig });
  assert.is(run.status, ExitCode.usage, run.stderr);
  assert.match(run.stderr, /^airy-tunnel: --secrets-file .*absent: cannot read it \(ENOENT\) \[TUNNEL_SECRETS_INVALID\]\n$/);
});

test('start with an upstream that does not answer: exit 14', () => {
  const run = runBin(packageDir, ['start', '--to', 'http://127.0.0.1:1', '--state-dir', join(dir, 's1')], { env: { ...noConfig, NGROK_AUTHTOKEN: TOKEN } });
  assert.is(run.status, ExitCode.tunnelUpstreamDown, run.stderr);
  assert.match(run.stderr, /does not answer \(ECONNREFUSED\): is Airy Core running\?.* \[TUNNEL_UPSTREAM_DOWN\]\n$/);
});

test('start through the real ngrok SDK without a network: exit 12, and the token appears nowhere', async () => {
  const stateDir = join(dir, 's2');
  const run = await runBinAsync(packageDir, ['start', '--to', target, '--state-dir', stateDir, '--namespace', 'airy'], { env: { ...noConfig, NGROK_AUTHTOKEN: TOKEN } });
  assert.is(run.status, ExitCode.tunnelNoNetwork, run.stderr);
  assert.match(run.stderr, /cannot reach ngrok \(.*\): check the internet connection.* \[TUNNEL_NO_NETWORK\]/);
  const files = readdirSync(stateDir).map((f) => readFileSync(join(stateDir, f), 'utf8'));
  for (const text of [run.stdout, run.stderr, ...files]) assert.not.ok(text.includes(TOKEN), 'the token leaked');
  const status = runBin(packageDir, ['status', '--json', '--state-dir', stateDir], { env: noConfig });
  assert.is(status.status, 0, status.stderr);
  const state = JSON.parse(status.stdout);
  assert.is(state.state, 'failed');
  assert.match(state.lastError, /cannot reach ngrok/);
  assert.is(state.upstream.healthy, true);
});

test('log prints the recorded requests', () => {
  const entry = { time: '2026-11-26T00:00:00Z', method: 'POST', path: '/facebook', status: 200, latencyMs: 12, headers: {} };
  writeFileSync(join(dir, 'requests.jsonl'), `${JSON.stringify(entry)}\n`);
  const run = runBin(packageDir, ['log', '--state-dir', dir, '-n', '5']);
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stdout, '2026-11-26T00:00:00Z POST   200    12ms /facebook\n');
});

test('the token comes from NGROK_AUTHTOKEN, else our config, else the ngrok agent config', async () => {
  const home = join(dir, 'home');
  const files = [join(home, 'a.yml'), join(home, 'b.yml')];
  assert.is(await findToken({}, files), undefined);
  writeFileSync(join(dir, 'b.yml'), 'version: "2"\nagent:\n  authtoken: from-agent-config\n');
  assert.is(await findToken({}, [files[0] as string, join(dir, 'b.yml')]), 'from-agent-config');
  writeFileSync(join(dir, 'a.yml'), 'authtoken: from-airy-config\n');
  assert.is(await findToken({}, [join(dir, 'a.yml'), join(dir, 'b.yml')]), 'from-airy-config');
  assert.is(await findToken({ NGROK_AUTHTOKEN: 'from-env' }, [join(dir, 'a.yml')]), 'from-env');
});

// The live test: only where a real token (and so, presumably, the internet) is present.
const live = process.env.NGROK_AUTHTOKEN;
if (!live) console.log('skip: NGROK_AUTHTOKEN is not set; the live tunnel test against ngrok is skipped');
(live ? test : test.skip)('live: a real tunnel comes up and forwards to the upstream', async () => {
  const { start } = await import('../src/start.ts');
  const { ngrokDriver } = await import('../src/ngrok-driver.ts');
  const { systemClock } = await import('../src/supervisor.ts');
  const controller = new AbortController();
  const printed: string[] = [];
  const running = start({
    target,
    token: live,
    files: { state: join(dir, 'live.json'), log: join(dir, 'live.jsonl') },
    logBodies: false,
    driver: ngrokDriver,
    clock: systemClock,
    signal: controller.signal,
    print: (l) => printed.push(l),
    log: () => undefined,
  });
  for (let i = 0; i < 100 && !printed.length; i++) await new Promise((r) => setTimeout(r, 100));
  const url = /public URL: (\S+)/.exec(printed[0] ?? '')?.[1];
  assert.ok(url, 'a public URL was printed');
  const response = await fetch(`${url}/facebook`, { headers: { 'ngrok-skip-browser-warning': '1' } });
  assert.is(response.status, 200);
  controller.abort();
  await running;
});

test.after(async () => {
  await new Promise((r) => upstream.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test.run();
