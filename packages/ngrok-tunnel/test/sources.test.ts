/**
 * Which sources the platform behind the tunnel runs, asked of a real HTTP server on loopback that routes some
 * source paths and answers 404 on the others, as the Istio gateway does for a source that is not installed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin, startBin } from '../../../tools/testing/cli.ts';
import { sourcesOnUpstream, webhookLines } from '../src/sources.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'airy-sources-'));
// Routes facebook and google; twilio is not installed.
const upstream = createServer((req, res) => {
  res.statusCode = req.url?.startsWith('/twilio') ? 404 : 200;
  res.end();
});
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

test('sourcesOnUpstream: routed, 404 (not installed), and no answer (not known)', async () => {
  assert.equal(await sourcesOnUpstream(target), { facebook: true, google: true, twilio: false });
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  assert.equal(await sourcesOnUpstream(`http://127.0.0.1:${port}`), { facebook: undefined, google: undefined, twilio: undefined });
});

test('webhookLines: an uninstalled source is said so, with how to turn it on; the others are plain', () => {
  const lines = webhookLines({ facebook: 'https://x.ngrok.app/facebook', twilio: 'https://x.ngrok.app/twilio' }, { facebook: true, twilio: false });
  assert.equal(lines[0], '  facebook  https://x.ngrok.app/facebook');
  assert.is(
    lines[1],
    '  twilio    https://x.ngrok.app/twilio  (not installed: the platform answers 404 on /twilio; to turn it on, render the platform with sources: [twilio] and create the Secret sources-twilio with its credentials)',
  );
});

test('airy-tunnel start and status print which sources the platform runs', async () => {
  const stateDir = join(dir, 'state');
  const child = startBin(packageDir, ['start', '--no-ngrok', '--to', target, '--state-dir', stateDir, '--inspector-port', '0'], { env: { NGROK_AUTHTOKEN: '' } });
  await child.until(/twilio/);
  const status = runBin(packageDir, ['status', '--state-dir', stateDir]);
  child.kill('SIGTERM');
  await child.closed;
  const out = child.out();
  assert.match(out, /^ {2}twilio {4}http:\/\/127\.0\.0\.1:\d+\/twilio {2}\(not installed: the platform answers 404 on \/twilio/m);
  assert.match(out, /^ {2}facebook {2}http:\/\/127\.0\.0\.1:\d+\/facebook$/m);
  assert.match(status.stdout, /twilio .*\(not installed/);
});

test.after(async () => {
  await new Promise((r) => upstream.close(r));
  rmSync(dir, { recursive: true, force: true });
});
test.run();
