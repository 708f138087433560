/**
 * bootstrap's JSON state files, each checked by its schema (valibot) and bounded: `instance.json` refused in one
 * line naming the file, the key and how to recover; the downloader's resume state, the delta's state and the
 * verified marker, which are hints, not trusted when they are not sound (the work starts over, and a resume state
 * that was refused is said in a line naming the file and the key).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBinAsync } from '../../../tools/testing/cli.ts';
import { startHttp, type TestHttp } from '../../../tools/testing/http.ts';
import { download } from '../src/download/index.ts';
import { parseMarker } from '../src/download/verify.ts';
import { DamagedInstanceError, parseInstance } from '../src/instance.ts';
import { checkResumeState, parseDeltaState, parseResumeState } from '../src/download/resume.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'airy-state-files-'));
const sha = 'a'.repeat(64);
const instance = { catalog: 'file:///x/metadata.json', boxName: 'airy/core', version: '1.0.0', provider: 'libvirt', sha256: sha, cpus: 2, memoryMiB: 2048 };

/** The reason inside `(…)` of the DamagedInstanceError for `state`. */
function damage(state: unknown): string {
  try {
    parseInstance(typeof state === 'string' ? state : JSON.stringify(state), '/i/instance.json');
  } catch (error) {
    assert.instance(error, DamagedInstanceError);
    const message = (error as Error).message;
    assert.match(message, /^\/i\/instance\.json is damaged \(.*\): run airy-bootstrap again with the same --dir to make the instance anew/);
    return /is damaged \((.*)\): run/.exec(message)?.[1] ?? '';
  }
  throw new Error('instance.json was not refused');
}

test('instance.json: a sound one, an older one without privateNetwork, and a key of a newer one dropped', () => {
  assert.equal(parseInstance(JSON.stringify({ ...instance, privateNetwork: false }), 'x'), { ...instance, privateNetwork: false });
  assert.equal(parseInstance(JSON.stringify(instance), 'x').privateNetwork, true, 'older files were made with one');
  assert.equal(parseInstance(JSON.stringify({ ...instance, newer: 1 }), 'x'), { ...instance, privateNetwork: true });
});

test('instance.json: each wrong value is named by its key, with what it must be', () => {
  assert.is(damage({ ...instance, cpus: '4' }), 'cpus: must be a whole number from 1 to 1024, got "4"');
  assert.is(damage({ ...instance, memoryMiB: 0 }), 'memoryMiB: must be a whole number from 1 to 16777216, got 0');
  assert.is(damage({ ...instance, privateNetwork: 'no' }), 'privateNetwork: must be true or false, got "no"');
  assert.is(damage({ ...instance, provider: 'docker' }), 'provider: must be one of virtualbox, libvirt, got "docker"');
  assert.is(damage({ ...instance, libvirtDriver: 'tcg' }), 'libvirtDriver: must be one of kvm, qemu, got "tcg"');
  assert.is(damage({ ...instance, version: 'latest' }), 'version: must be a version such as 1.2.3, got "latest"');
  assert.is(damage({ ...instance, boxName: '../x' }), 'boxName: must be a box name such as airy/core, got "../x"');
  assert.is(damage({ ...instance, cacheDir: 'relative/cache' }), 'cacheDir: must be an absolute path');
  assert.is(damage({ ...instance, catalog: 'x'.repeat(5000) }), `catalog: must be a string of 1 to 4096 characters, got "${'x'.repeat(36)}...`);
  const { boxName: _, ...noName } = instance;
  assert.is(damage(noName), 'boxName: is missing');
  assert.is(damage('[]'), 'must be a JSON object, got []');
  assert.is(damage('{"catalog": '), 'not JSON');
  // The bound leaves room for the trusted root's text (at most 1 MiB) that an instance remembers.
  assert.is(damage(JSON.stringify({ ...instance, padding: ' '.repeat(1_200_000) })).replace(/\d+ bytes/, 'N bytes'), 'N bytes, more than such a file holds (1114112)');
  assert.is(damage({ ...instance, trustedRoot: '{}', allowUnsigned: true }), 'trustedRoot: must not be given with allowUnsigned: true');
});

test('airy-bootstrap on a damaged instance.json: one line naming the file and the key, exit 2', async () => {
  const dir = join(work, 'instance');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'instance.json'), JSON.stringify({ ...instance, memoryMiB: '2048' }));
  const run = await runBinAsync(packageDir, ['status', '--dir', dir]);
  assert.is(run.status, 2, run.stderr);
  const lines = run.stderr.trimEnd().split('\n');
  assert.is(lines.length, 1, run.stderr);
  assert.match(lines[0] ?? '', /instance\.json is damaged \(memoryMiB: must be a whole number from 1 to 16777216, got "2048"\): run airy-bootstrap again/);
});

test('the resume state: bounded, of this very file, or not used (and what was wrong, by key)', () => {
  const state = { url: 'http://x/box', size: 20, sha256: sha, validator: '"e"', blockSize: 8, done: [0, 2] };
  assert.ok(parseResumeState(JSON.stringify(state)));
  const problem = (s: unknown) => {
    const checked = checkResumeState(JSON.stringify(s));
    return 'problem' in checked ? checked.problem : 'sound';
  };
  assert.is(problem({ ...state, done: [3] }), 'done: names a block past the end of the file');
  assert.is(problem({ ...state, done: [2 ** 53] }), 'done.0: must be a whole number from 0 to 9007199254740991, got 9007199254740992');
  assert.is(problem({ ...state, sha256: 's' }), 'sha256: must be a SHA-256 of 64 hex digits, got "s"');
  assert.is(problem({ ...state, blockSize: 0 }), 'blockSize: must be a whole number from 1 to 1099511627776, got 0');
  assert.is(problem({ ...state, partial: [[8, 25]] }), 'partial: names a range past the end of the file');
  assert.is(problem({ ...state, partial: [[9, 8]] }), 'partial.0: must start before it ends');
  assert.is(problem({ ...state, validator: 'v'.repeat(2000) }).slice(0, 52), 'validator: must be a string of 0 to 1024 characters,');
  assert.is(problem({ ...state, url: undefined }), 'url: is missing');
});

test('the delta state and the verified marker: not used unless sound', () => {
  const delta = { url: 'http://x/box', sha256: sha, size: 20, validator: '', plan: 'b'.repeat(64), done: [0] };
  assert.ok(parseDeltaState(JSON.stringify(delta)));
  for (const bad of [{ ...delta, size: -5 }, { ...delta, plan: 'not a digest' }, { ...delta, done: ['0'] }, { ...delta, url: 5 }, null]) {
    assert.is(parseDeltaState(JSON.stringify(bad)), undefined, JSON.stringify(bad));
  }
  const marker = { sha256: sha, size: 20, mtimeMs: 1733500000123.456 };
  assert.equal(parseMarker(JSON.stringify(marker)), marker);
  for (const bad of [{ ...marker, mtimeMs: '1' }, { ...marker, size: 1.5 }, { ...marker, sha256: 'A'.repeat(64) }, 'x']) {
    assert.is(parseMarker(JSON.stringify(bad)), undefined, JSON.stringify(bad));
  }
});

let http: TestHttp | undefined;
test('a download beside a damaged resume state says which key, starts over and finishes', async () => {
  const root = join(work, 'served');
  mkdirSync(root, { recursive: true });
  const body = randomBytes(64 * 1024);
  writeFileSync(join(root, 'box.box'), body);
  http = await startHttp(root);
  const sha256 = createHash('sha256').update(body).digest('hex');
  const out = join(work, 'out', 'box.box');
  mkdirSync(join(work, 'out'), { recursive: true });
  writeFileSync(`${out}.download.json`, JSON.stringify({ url: `${http.url}/box.box`, size: body.length, sha256, validator: '', blockSize: 'big', done: [] }));
  const said: string[] = [];
  const result = await download({ url: `${http.url}/box.box`, sha256, out, blockSize: 16 * 1024, attempts: 1, onStartOver: (reason) => said.push(reason) });
  assert.is(result.resumedBytes, 0);
  assert.equal(said, [`${out}.download.json: blockSize: must be a whole number from 1 to 1099511627776, got "big"`]);
  assert.ok(readFileSync(out).equals(body));
});

test.after(async () => {
  await http?.stop();
  rmSync(work, { recursive: true, force: true });
});
test.run();
