/** `airy-tunnel status` on a damaged state file: one line naming the file, the key and how to recover, exit 2. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin } from '../../../tools/testing/cli.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'airy-tunnel-state-'));

test('a damaged state file is refused naming the key; no file is "no tunnel has run"', () => {
  const state = { state: 'stopped', pid: 1, target: 'http://127.0.0.1:8080', webhooks: { facebook: ['https://x.ngrok.app/facebook'] }, startedAt: 1, reconnects: 0 };
  writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
  let run = runBin(packageDir, ['status', '--state-dir', dir]);
  assert.is(run.status, 2, run.stderr);
  assert.is(
    run.stderr,
    `airy-tunnel: ${join(dir, 'state.json')}: webhooks.facebook: must be a string of 1 to 2048 characters, got ["https://x.ngrok.app/facebook"]: remove the file, or start the tunnel again (airy-tunnel start)\n`,
  );
  writeFileSync(join(dir, 'state.json'), '{"state": "stopp');
  run = runBin(packageDir, ['status', '--state-dir', dir]);
  assert.is(run.status, 2, run.stderr);
  assert.match(run.stderr, /state\.json: not JSON: remove the file, or start the tunnel again/);
  rmSync(join(dir, 'state.json'));
  run = runBin(packageDir, ['status', '--state-dir', dir]);
  assert.is(run.status, 1, run.stderr);
  assert.match(run.stderr, /no tunnel has run here/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
