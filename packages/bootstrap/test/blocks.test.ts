import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backoffMs } from '@airy/cli-kit';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addWritten, planBlocks, remaining, remainingPieces } from '../src/download/blocks.ts';
import { canResume, checkDeltaState, checkResumeState, deltaFiles, parseDeltaState, parseResumeState, savedState, wholeFiles } from '../src/download/resume.ts';

const SHA = 'a'.repeat(64);
const PLAN = 'b'.repeat(64);

test('ranges: chunks, resume validity, what is left, backoff', () => {
  const chunks = planBlocks(20, 8);
  assert.equal(chunks.map((c) => [c.start, c.end]), [[0, 7], [8, 15], [16, 19]]);
  assert.equal(remaining(chunks, [0, 2]).map((c) => c.index), [1]);
  const wanted = { url: 'u', size: 20, sha256: 's', validator: 'e1', blockSize: 8 };
  assert.ok(canResume({ ...wanted, done: [0] }, wanted));
  assert.not.ok(canResume({ ...wanted, validator: 'e2', done: [0] }, wanted), 'a changed file starts over');
  assert.not.ok(canResume(undefined, wanted));
  assert.is(backoffMs(3, 250, 10_000, () => 1), 2000);
  assert.is(backoffMs(10, 250, 10_000, () => 1), 10_000);
});

test('ranges: a resume fetches what is left of partly written chunks, and a state names only ranges inside the file', () => {
  const chunks = planBlocks(20, 8);
  // Block 0 done; chunk 1 written at 8-9 and 12-13; chunk 2 wholly written (not yet marked done).
  const pieces = remainingPieces(chunks, [0], [[12, 13], [8, 9], [16, 19]]);
  assert.equal(pieces, [{ index: 1, start: 10, end: 11 }, { index: 1, start: 14, end: 15 }]);
  assert.equal(remainingPieces(chunks, [], []).map((p) => [p.start, p.end]), [[0, 7], [8, 15], [16, 19]]);
  const written: [number, number][] = [];
  addWritten(written, 8, 9);
  addWritten(written, 10, 11);
  addWritten(written, 16, 17);
  assert.equal(written, [[8, 11], [16, 17]]);
  const state = { url: 'u', size: 20, sha256: SHA, validator: 'e', blockSize: 8, done: [0] };
  assert.ok(parseResumeState(JSON.stringify({ ...state, partial: [[8, 9]] })));
  assert.ok(parseResumeState(JSON.stringify(state)), 'a state without partial ranges (an older one) is still one');
  for (const partial of [[[8, 20]], [[9, 8]], [[-1, 2]], [[1]], 'x']) {
    assert.is(parseResumeState(JSON.stringify({ ...state, partial })), undefined, JSON.stringify(partial));
  }
});

test('resume: one module for both kinds; each has its own pair of files, and a state counts only with its part whole-sized', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airy-resume-'));
  try {
    const out = join(dir, 'a.box');
    const [whole, delta] = [wholeFiles(out), deltaFiles(out)];
    assert.equal(new Set([whole.part, whole.state, delta.part, delta.state]).size, 4);
    const file = { url: 'u', size: 20, sha256: SHA, validator: 'e' };
    const wholeState = { ...file, blockSize: 8, done: [0] };
    const deltaState = { ...file, plan: PLAN, done: [1] };
    // Neither kind's state is taken for the other's.
    assert.is(parseResumeState(JSON.stringify(deltaState)), undefined);
    assert.is(parseDeltaState(JSON.stringify(wholeState)), undefined);
    assert.equal(parseDeltaState(JSON.stringify(deltaState)), deltaState);
    for (const bad of ['null', '[]', '{', JSON.stringify({ ...deltaState, done: [-1] }), JSON.stringify({ ...deltaState, size: -1 })]) {
      assert.is(parseDeltaState(bad), undefined, bad);
    }
    writeFileSync(delta.state, JSON.stringify(deltaState));
    const wanted = { ...file, plan: PLAN };
    assert.is(await savedState(delta, checkDeltaState, wanted, 20), undefined, 'no part file: start over');
    writeFileSync(delta.part, Buffer.alloc(19));
    assert.is(await savedState(delta, checkDeltaState, wanted, 20), undefined, 'a part of another size: start over');
    writeFileSync(delta.part, Buffer.alloc(20));
    assert.equal(await savedState(delta, checkDeltaState, wanted, 20), deltaState);
    assert.is(await savedState(delta, checkDeltaState, { ...wanted, plan: 'q' }, 20), undefined, 'another plan: start over');
    assert.is(await savedState(whole, checkResumeState, { ...file, blockSize: 8 }, 20), undefined, "the delta's pair is not the whole's");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
