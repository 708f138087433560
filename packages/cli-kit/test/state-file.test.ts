/**
 * The JSON state files (state-file.ts) and the tunnel's (tunnel-state.ts): bounded before the parse, checked by
 * their schema, and a damaged one refused in one line naming the file, the key and how to recover.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as v from 'valibot';
import { field, parseStateFile, readTunnelState, StateFileError, stateFileProblem, writeTunnelState } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'airy-state-file-'));
const spec = {
  schema: field.object({ name: field.text(8), count: field.whole(0, 10), tags: v.optional(field.record(field.text(20), 2)) }),
  maxBytes: 200,
  fix: 'remove it, or run the command again',
};

/** The error `work` throws, which must be a StateFileError. */
function refusal(work: () => unknown): StateFileError {
  try {
    work();
  } catch (error) {
    assert.instance(error, StateFileError);
    return error as StateFileError;
  }
  throw new Error('nothing was refused');
}

test('a sound file is its value; a damaged one is one line: the file, the key, what is wrong, how to fix it', () => {
  assert.equal(parseStateFile('{"name": "a", "count": 3, "unknown": true}', '/s.json', spec), { name: 'a', count: 3 });
  const cases: [string, string][] = [
    ['{"name": "a", "count": "3"}', '/s.json: count: must be a whole number from 0 to 10, got "3": remove it, or run the command again'],
    ['{"name": "a", "count": 11}', '/s.json: count: must be a whole number from 0 to 10, got 11: remove it, or run the command again'],
    ['{"name": "much too long", "count": 1}', '/s.json: name: must be a string of 1 to 8 characters, got "much too long": remove it, or run the command again'],
    ['{"count": 1}', '/s.json: name: is missing: remove it, or run the command again'],
    ['{"name": "a", "count": 1, "tags": {"x": 5}}', '/s.json: tags.x: must be a string of 1 to 20 characters, got 5: remove it, or run the command again'],
    ['{"name": "a", "count": 1, "tags": {"a": "1", "b": "2", "c": "3"}}', '/s.json: tags: must be a mapping of at most 2 keys, got {"a":"1","b":"2","c":"3"}: remove it, or run the command again'],
    ['[1, 2]', '/s.json: must be a JSON object, got [1,2]: remove it, or run the command again'],
    ['{"name": "a", "cou', '/s.json: not JSON: remove it, or run the command again'],
    [`{"name": "${'x'.repeat(300)}"}`, '/s.json: 312 bytes, more than such a file holds (200): remove it, or run the command again'],
  ];
  for (const [text, line] of cases) {
    const error = refusal(() => parseStateFile(text, '/s.json', spec));
    assert.is(error.message, line);
    assert.is(error.reason, 'STATE_FILE_DAMAGED');
    assert.not.match(error.message, /\n/);
  }
});

test('keys and values from the file reach the line escaped', () => {
  const error = refusal(() => parseStateFile('{"name": "a", "count": 1, "tags": {"\\u001b[31m": 1}}', '/s.json', spec));
  assert.is(error.key, 'tags.\\x1b[31m');
  assert.not.ok(error.message.includes('\u001b'), 'no raw ESC');
});

test('a file that is only a hint: its value, or the key and what is wrong', () => {
  assert.equal(stateFileProblem('{"name": "a", "count": 1}', spec), { value: { name: 'a', count: 1 } });
  assert.equal(stateFileProblem('{"name": "a", "count": -1}', spec), { problem: 'count: must be a whole number from 0 to 10, got -1' });
  assert.equal(stateFileProblem('nonsense', spec), { problem: 'not JSON' });
});

test('the tunnel state file: a damaged one is refused naming the key, a missing one is none', async () => {
  const path = join(dir, 'tunnel', 'state.json');
  mkdirSync(join(dir, 'tunnel'), { recursive: true });
  const sound = { state: 'stopped', pid: 1, target: 'http://127.0.0.1:8080', webhooks: { facebook: 'https://x.ngrok.app/facebook' }, startedAt: 1, reconnects: 0 };
  writeFileSync(path, JSON.stringify(sound));
  assert.equal(await readTunnelState(path), sound);
  const fix = 'remove the file, or start the tunnel again (airy-tunnel start)';
  const damaged: [unknown, string][] = [
    [{ ...sound, webhooks: { facebook: 5 } }, 'webhooks.facebook: must be a string of 1 to 2048 characters, got 5'],
    [{ ...sound, state: 'yes' }, 'state: must be one of connecting, online, reconnecting, stopped, failed, got "yes"'],
    [{ ...sound, pid: '1' }, 'pid: must be a whole number from 1 to 4294967296, got "1"'],
    [{ ...sound, reconnects: -1 }, 'reconnects: must be a whole number from 0 to 9007199254740991, got -1'],
    [{ ...sound, upstream: { healthy: 'no', detail: '', checkedAt: 'now' } }, 'upstream.healthy: must be true or false, got "no"'],
    [{ ...sound, uninstalled: 'facebook' }, 'uninstalled: must be a list of at most 64 items, got "facebook"'],
  ];
  for (const [state, problem] of damaged) {
    writeFileSync(path, JSON.stringify(state));
    const error = await readTunnelState(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.instance(error, StateFileError, problem);
    assert.is((error as Error).message, `${path}: ${problem}: ${fix}`);
  }
  writeFileSync(path, '{"state": "onl');
  await readTunnelState(path).then(
    () => assert.unreachable('not JSON is refused, not read as no tunnel'),
    (e: Error) => assert.is(e.message, `${path}: not JSON: ${fix}`),
  );
  writeFileSync(path, ' '.repeat(256 * 1024 + 1));
  await readTunnelState(path).then(
    () => assert.unreachable('a huge file is refused before it is parsed'),
    (e: Error) => assert.match(e.message, /: 262145 bytes, more than such a file holds \(262144\): remove the file/),
  );
  rmSync(path);
  assert.is(await readTunnelState(path), undefined);
});

test('the tunnel state file: what is written can be read, a long last error cut to the bound', async () => {
  const path = join(dir, 'written', 'state.json');
  await writeTunnelState(path, { state: 'failed', pid: 1, target: 'http://x', webhooks: {}, startedAt: 1, reconnects: 2, lastError: 'e'.repeat(10_000) });
  const read = await readTunnelState(path);
  assert.is(read?.lastError?.length, 4096);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
