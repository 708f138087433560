/**
 * The tunnel's files read back through their schemas: `airy-tunnel status` on a damaged state file is one line naming
 * the file, the key and how to recover (exit 2); `airy-tunnel log` leaves out a line of the request log that is not a
 * request, saying which line and key.
 */
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
    `airy-tunnel: ${join(dir, 'state.json')}: webhooks.facebook: must be a string of 1 to 2048 characters, got ["https://x.ngrok.app/facebook"]: remove the file, or start the tunnel again (airy-tunnel start) [STATE_FILE_DAMAGED]\n`,
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

test('a request log line that is not a request is left out and named; the others are shown', () => {
  const entry = { time: '2026-12-06T10:00:00.000Z', method: 'POST', path: '/facebook', status: 200, latencyMs: 12, headers: { 'content-type': 'application/json' } };
  const lines = [JSON.stringify(entry), JSON.stringify({ time: 1 }), '{"cut sho', JSON.stringify({ ...entry, path: '/google', status: '200' }), JSON.stringify({ ...entry, path: '/twilio' })];
  writeFileSync(join(dir, 'requests.jsonl'), `${lines.join('\n')}\n`);
  const run = runBin(packageDir, ['log', '--state-dir', dir]);
  assert.is(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).at(-1)), ['/facebook', '/twilio']);
  const log = join(dir, 'requests.jsonl');
  assert.is(
    run.stderr,
    [
      `${log}: line 2: time: must be a string of 1 to 64 characters, got 1: not a request, left out`,
      `${log}: line 3: not JSON: not a request, left out`,
      `${log}: line 4: status: must be a whole number from 0 to 999, got "200": not a request, left out`,
      '',
    ].join('\n'),
  );
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
