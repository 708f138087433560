import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backoffMs } from '@airy/cli-kit';
import { canResume, planChunks, remaining } from '../src/ranges.ts';

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

test.run();
