/**
 * The chunk index: content-defined cuts (the same whatever the reads' sizes, and an insertion moves only the cuts
 * near it), the index as untrusted input, and the delta plan. Real files in a temporary folder.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  addRelease,
  CHUNKING,
  chooseRelease,
  emptyCatalog,
  type ChunkIndex,
  Chunker,
  indexFile,
  localChunks,
  parseChunkIndex,
  planDelta,
  stringifyChunkIndex,
} from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'airy-chunks-'));
const MiB = 2 ** 20;
/** Pseudo-random bytes from a seed: the same for every run. */
function bytes(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  for (let at = 0, n = 0; at < size; n++) at += createHash('sha256').update(`${seed}:${n}`).digest().copy(out, at);
  return out;
}
/** The chunks' lengths, from the cut offsets `push` gives within each slice. */
const cutsOf = (data: Buffer, slice: number) => {
  const c = new Chunker();
  const cuts: number[] = [];
  let previous = 0;
  for (let at = 0; at < data.length; at += slice) {
    for (const end of c.push(data.subarray(at, at + slice))) {
      cuts.push(at + end - previous);
      previous = at + end;
    }
  }
  const last = c.end();
  return last === undefined ? cuts : [...cuts, last];
};

test('the cuts do not depend on how the bytes are read, and every chunk is within the bounds', () => {
  const data = bytes(24 * MiB, 'a');
  const whole = cutsOf(data, data.length);
  for (const slice of [1000, 65536, 1048577]) assert.equal(cutsOf(data, slice), whole, `slices of ${slice}`);
  assert.is(whole.reduce((a, b) => a + b, 0), data.length);
  for (const length of whole.slice(0, -1)) assert.ok(length >= CHUNKING.min && length <= CHUNKING.max, `${length}`);
  const average = data.length / whole.length;
  assert.ok(average > CHUNKING.avg / 2 && average < CHUNKING.avg * 2, `average ${average}`);
});

test('an insertion changes only the chunks around it: the rest are found again by hash', async () => {
  const before = bytes(32 * MiB, 'b');
  const inserted = Buffer.concat([before.subarray(0, 10 * MiB), randomBytes(3 * MiB), before.subarray(10 * MiB)]);
  writeFileSync(join(dir, 'old'), before);
  writeFileSync(join(dir, 'new'), inserted);
  const [old, next] = await Promise.all([indexFile(join(dir, 'old')), indexFile(join(dir, 'new'))]);
  assert.is(old.sha256, createHash('sha256').update(before).digest('hex'));
  assert.is(next.size, inserted.length);
  const plan = planDelta(next, localChunks([{ file: join(dir, 'old'), index: old }]));
  // The 3 MiB, plus at most the chunk on each side of it.
  assert.ok(plan.fetchBytes >= 3 * MiB && plan.fetchBytes <= 3 * MiB + 2 * CHUNKING.max, `fetched ${plan.fetchBytes}`);
  assert.is(plan.reusedBytes + plan.fetchBytes, inserted.length);
  assert.is(plan.fetch.length, 1, 'one contiguous range to fetch');
  // Applying the plan gives the new file.
  const out = Buffer.alloc(inserted.length);
  for (const c of plan.copy) before.copy(out, c.to, c.from, c.from + c.length);
  for (const f of plan.fetch) inserted.copy(out, f.start, f.start, f.end + 1);
  assert.ok(out.equals(inserted));
});

test('the plan: nothing local fetches everything in one range; everything local fetches nothing', () => {
  const index: ChunkIndex = {
    size: 30,
    sha256: 'f'.repeat(64),
    chunks: [
      { offset: 0, length: 10, sha256: 'a'.repeat(64) },
      { offset: 10, length: 10, sha256: 'b'.repeat(64) },
      { offset: 20, length: 10, sha256: 'c'.repeat(64) },
    ],
  };
  assert.equal(planDelta(index, new Map()).fetch, [{ start: 0, end: 29 }]);
  const all = localChunks([{ file: 'old', index }]);
  const plan = planDelta(index, all);
  assert.equal(plan.copy, [{ file: 'old', from: 0, to: 0, length: 30 }], 'neighbours merged');
  assert.is(plan.fetchBytes, 0);
  // A hash found with another length is not the chunk.
  const liar = new Map([['b'.repeat(64), { file: 'old', offset: 0, length: 9 }]]);
  assert.is(planDelta(index, liar).fetchBytes, 30);
});

test('the index as untrusted input: round trip, then each way it can lie is refused in one sentence', async () => {
  writeFileSync(join(dir, 'box'), bytes(6 * MiB, 'c'));
  const index = await indexFile(join(dir, 'box'));
  const text = stringifyChunkIndex(index);
  const expected = { size: index.size, sha256: index.sha256 };
  assert.equal(parseChunkIndex(text, 'i', expected), index);
  const doc = JSON.parse(text);
  const lies: [unknown, RegExp][] = [
    ['{', /not valid JSON/],
    [[], /is not a chunk index/],
    [{ ...doc, format: 'zsync' }, /format is "zsync"/],
    [{ ...doc, chunking: 'gear32/v1 min=1 avg=2 max=3' }, /was cut otherwise/],
    [{ ...doc, sha256: 'a'.repeat(64) }, /is of another box/],
    [{ ...doc, size: doc.size + 1 }, /is of another box \(size/],
    [{ ...doc, chunks: [[doc.chunks[0][0], CHUNKING.max + 1]] }, /the length must be 1 to/],
    [{ ...doc, chunks: [['XYZ', 10]] }, /the hash must be 64 hex digits/],
    [{ ...doc, chunks: doc.chunks.slice(1) }, /the chunks add up to \d+ bytes, not the size/],
    [{ ...doc, chunks: 'many' }, /chunks must be a list/],
  ];
  // Whatever the text was (a file it should not have been), the message does not repeat it.
  assert.throws(() => parseChunkIndex('root:x:0:0:s3cret-of-the-machine', 'i', expected), (e: Error) => /not valid JSON/.test(e.message) && !e.message.includes('s3cret'));
  for (const [lie, pattern] of lies) {
    assert.throws(() => parseChunkIndex(typeof lie === 'string' ? lie : JSON.stringify(lie), 'i', expected), pattern);
  }
});

test('a catalog from a server may not name a file: chunk index (it would make the client read its own files)', () => {
  const entry = { name: 'libvirt', url: 'https://boxes.example/b.box', checksum_type: 'sha256', checksum: 'a'.repeat(64), architecture: 'amd64', chunks_url: 'file:///etc/passwd' } as const;
  const catalog = addRelease(emptyCatalog('airy/core'), '1.0.0', entry).catalog;
  assert.throws(() => chooseRelease({ url: 'https://boxes.example/metadata.json', catalog }, '1.0.0', 'libvirt', 'amd64'), /names a file: chunk index/);
  assert.is(chooseRelease({ url: 'file:///srv/boxes/metadata.json', catalog }, '1.0.0', 'libvirt', 'amd64').file.chunks_url, 'file:///etc/passwd');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
