/**
 * The chunk index: cuts after each sync-flush marker (the same whatever the reads' sizes, so an inserted segment
 * costs itself alone), the index as untrusted input, and the delta plan. Real files in a temporary folder.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytes, FLUSH_MARKER as MARKER, flushed } from '../../../tools/testing/streams.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addRelease, CHUNKING, chooseRelease, emptyCatalog, type ChunkIndex, chunkIndexOf, chunkList, indexFile, localChunks, parseChunkIndex, planDelta, stringifyChunkIndex } from '../src/index.ts';
import { Cutter, MAX_CHUNKS } from '../src/chunks.ts';

const dir = mkdtempSync(join(tmpdir(), 'airy-chunks-'));
const MiB = 2 ** 20;
/** The chunks' lengths, from the cut offsets `push` gives within each slice. */
const cutsOf = (data: Buffer, slice: number) => {
  const c = new Cutter();
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

test('the cuts fall after each flush marker, whatever the reads\' sizes, and markerless bytes every max', () => {
  const data = flushed(200, 'a');
  const whole = cutsOf(data, data.length);
  // Markers split across reads (slices of 1, 2 and 3 bytes), and reads of every other size.
  const head = data.subarray(0, 200_000);
  for (const slice of [1, 2, 3]) assert.equal(cutsOf(head, slice), cutsOf(head, head.length), `slices of ${slice}`);
  for (const slice of [1000, 65536, 1048577]) assert.equal(cutsOf(data, slice), whole, `slices of ${slice}`);
  assert.is(whole.reduce((a, b) => a + b, 0), data.length);
  let at = 0;
  for (const length of whole) {
    at += length;
    assert.ok(data.subarray(at - 4, at).equals(MARKER), `a cut at ${at} follows a marker`);
  }
  assert.ok(whole.length >= 200, 'every marker is a cut');
  // No marker at all: cut at the maximum, the same however it is read.
  const plain = Buffer.alloc(3 * CHUNKING.max + 5, 1);
  assert.equal(cutsOf(plain, plain.length), [CHUNKING.max, CHUNKING.max, CHUNKING.max, 5]);
  assert.equal(cutsOf(plain, 4096), [CHUNKING.max, CHUNKING.max, CHUNKING.max, 5]);
});

test('an inserted segment costs itself: every other chunk is found again by hash', async () => {
  const before = flushed(400, 'b');
  const extra = Buffer.concat([bytes(3 * MiB, 'new'), MARKER]);
  const cut = before.indexOf(MARKER, 5 * MiB) + 4;
  const inserted = Buffer.concat([before.subarray(0, cut), extra, before.subarray(cut)]);
  writeFileSync(join(dir, 'old'), before);
  writeFileSync(join(dir, 'new'), inserted);
  const [old, next] = await Promise.all([indexFile(join(dir, 'old')), indexFile(join(dir, 'new'))]);
  assert.is(old.sha256, createHash('sha256').update(before).digest('hex'));
  assert.is(next.size, inserted.length);
  const plan = planDelta(next, localChunks([{ file: join(dir, 'old'), index: old }]));
  // The segment and nothing else (cut every max within it).
  assert.is(plan.fetchBytes, extra.length);
  assert.is(plan.reusedBytes + plan.fetchBytes, inserted.length);
  assert.equal(plan.fetch, [{ start: cut, end: cut + extra.length - 1 }]);
  // Applying the plan gives the new file, and each copied run lists the chunks it holds.
  const out = Buffer.alloc(inserted.length);
  for (const c of plan.copy) {
    assert.is(next.lengths.subarray(c.first, c.first + c.count).reduce((n, x) => n + x, 0), c.length);
    before.copy(out, c.to, c.from, c.from + c.length);
  }
  for (const f of plan.fetch) inserted.copy(out, f.start, f.start, f.end + 1);
  assert.ok(out.equals(inserted));
});

test('the plan: nothing local fetches everything in one range; everything local fetches nothing', () => {
  const index: ChunkIndex = chunkIndexOf(30, 'f'.repeat(64), [
    { length: 10, hash: 'a'.repeat(32) },
    { length: 10, hash: 'b'.repeat(32) },
    { length: 10, hash: 'c'.repeat(32) },
  ]);
  assert.equal(chunkList(index).map((c) => c.offset), [0, 10, 20]);
  assert.equal(planDelta(index, localChunks([])).fetch, [{ start: 0, end: 29 }]);
  const all = localChunks([{ file: 'old', index }]);
  const plan = planDelta(index, all);
  assert.equal(
    plan.copy,
    [{ file: 'old', from: 0, to: 0, length: 30, first: 0, count: 3 }],
    'neighbours merged',
  );
  assert.is(plan.fetchBytes, 0);
  // A hash found with another length is not the chunk.
  const liar = localChunks([{ file: 'old', index: chunkIndexOf(9, 'f'.repeat(64), [{ length: 9, hash: 'b'.repeat(32) }]) }]);
  assert.is(planDelta(index, liar).fetchBytes, 30);
  // The first place a chunk is found is where it is taken from; many chunks in one table are all found.
  const many = chunkIndexOf(3000, 'f'.repeat(64), Array.from({ length: 3000 }, (_, i) => ({ length: 1, hash: createHash('sha256').update(`${i}`).digest('hex') })));
  const table = localChunks([{ file: 'one', index: many }, { file: 'two', index: many }]);
  assert.is(planDelta(many, table).reusedBytes, 3000);
  assert.equal(planDelta(many, table).copy, [{ file: 'one', from: 0, to: 0, length: 3000, first: 0, count: 3000 }]);
});

test('the index as untrusted input: round trip, then each way it can lie is refused in one sentence', async () => {
  writeFileSync(join(dir, 'box'), flushed(150, 'c'));
  const index = await indexFile(join(dir, 'box'));
  const text = stringifyChunkIndex(index);
  const expected = { size: index.size, sha256: index.sha256 };
  assert.equal(parseChunkIndex(text, 'i', expected), index);
  // An older box here is known by its size alone.
  assert.equal(parseChunkIndex(text, 'i', { size: index.size }), index);
  assert.ok(text.length < index.lengths.length * 30, `${text.length} bytes for ${index.lengths.length} chunks`);
  const doc = JSON.parse(text);
  const lies: [unknown, RegExp][] = [
    ['{', /not valid JSON/],
    [[], /is not a chunk index/],
    [{ ...doc, format: 'zsync' }, /format is "zsync"/],
    [{ ...doc, chunking: 'gear32/v1 min=1 avg=2 max=3' }, /was cut otherwise/],
    [{ ...doc, sha256: 'a'.repeat(64) }, /is of another box/],
    [{ ...doc, size: doc.size + 1 }, /is of another box \(size/],
    [{ ...doc, lengths: [CHUNKING.max + 1, ...doc.lengths.slice(1)] }, /lengths\[0\] must be 1 to/],
    [{ ...doc, lengths: [0, ...doc.lengths.slice(1)] }, /lengths\[0\] must be 1 to/],
    [{ ...doc, hashes: doc.hashes.slice(4) }, /hashes must be base64 of 16 bytes for each of the \d+ chunks/],
    [{ ...doc, hashes: `!${doc.hashes.slice(1)}` }, /hashes must be base64/],
    [{ ...doc, lengths: doc.lengths.slice(1), hashes: Buffer.from(doc.hashes, 'base64').subarray(16).toString('base64') }, /the chunks add up to \d+ bytes, not the size/],
    [{ ...doc, lengths: 'many' }, /lengths must be a list/],
    [{ ...doc, lengths: Array.from({ length: MAX_CHUNKS + 1 }, () => 1) }, /lengths must be a list of at most/],
    // A nesting bomb (tens of MB of it cost the parser seconds and gigabytes) is refused before the parse.
    [`${'['.repeat(2 ** 20)}${']'.repeat(2 ** 20)}`, /is nested deeper than a chunk index is/],
    [`{"format":"airy-chunks/2","lengths":[[[1]]]}`, /is nested deeper than a chunk index is/],
  ];
  // Brackets inside strings are text, not nesting.
  assert.throws(() => parseChunkIndex(JSON.stringify({ ...doc, format: '[[[\\"[[' }), 'i', expected), /format is/);
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
