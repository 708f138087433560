import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backoffMs } from '@airy/cli-kit';
import { addWritten, canResume, parseResumeState, planChunks, remaining, remainingPieces } from '../src/ranges.ts';

test('ranges: chunks, resume validity, what is left, backoff', () => {
  const chunks = planChunks(20, 8);
  assert.equal(chunks.map((c) => [c.start, c.end]), [[0, 7], [8, 15], [16, 19]]);
  assert.equal(remaining(chunks, [0, 2]).map((c) => c.index), [1]);
  const wanted = { url: 'u', size: 20, sha256: 's', validator: 'e1', chunkSize: 8 };
  assert.ok(canResume({ ...wanted, done: [0] }, wanted));
  assert.not.ok(canResume({ ...wanted, validator: 'e2', done: [0] }, wanted), 'a changed file starts over');
  assert.not.ok(canResume(undefined, wanted));
  assert.is(backoffMs(3, 250, 10_000, () => 1), 2000);
  assert.is(backoffMs(10, 250, 10_000, () => 1), 10_000);
});

test('ranges: a resume fetches what is left of partly written chunks, and a state names only ranges inside the file', () => {
  const chunks = planChunks(20, 8);
  // Chunk 0 done; chunk 1 written at 8-9 and 12-13; chunk 2 wholly written (not yet marked done).
  const pieces = remainingPieces(chunks, [0], [[12, 13], [8, 9], [16, 19]]);
  assert.equal(pieces, [{ index: 1, start: 10, end: 11 }, { index: 1, start: 14, end: 15 }]);
  assert.equal(remainingPieces(chunks, [], []).map((p) => [p.start, p.end]), [[0, 7], [8, 15], [16, 19]]);
  const written: [number, number][] = [];
  addWritten(written, 8, 9);
  addWritten(written, 10, 11);
  addWritten(written, 16, 17);
  assert.equal(written, [[8, 11], [16, 17]]);
  const state = { url: 'u', size: 20, sha256: 'a'.repeat(64), validator: 'e', chunkSize: 8, done: [0] };
  assert.ok(parseResumeState(JSON.stringify({ ...state, partial: [[8, 9]] })));
  assert.ok(parseResumeState(JSON.stringify(state)), 'a state without partial ranges (an older one) is still one');
  for (const partial of [[[8, 20]], [[9, 8]], [[-1, 2]], [[1]], 'x']) {
    assert.is(parseResumeState(JSON.stringify({ ...state, partial })), undefined, JSON.stringify(partial));
  }
});

test.run();
