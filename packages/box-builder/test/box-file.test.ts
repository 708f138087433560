/**
 * The box as published: a resynchronising gzip of Packer's tar. Real tar and gzip read it back; two boxes that
 * differ by one file in the middle share all but a little of their compressed bytes, which the chunk index finds.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { indexFile, localChunks, planDelta } from '@airy/box-catalog';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RESYNC, ResyncPoints, resyncBox } from '../src/box-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'airy-box-file-'));
const MiB = 2 ** 20;
/** A disk-like file: compressible text with some randomness, the same for every run. */
function disk(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  for (let at = 0, n = 0; at < size; n++) at += out.write(`block ${n} ${createHash('sha256').update(`${seed}:${n}`).digest('hex').slice(0, 24)} ${'.'.repeat(n % 40)}\n`, at);
  return out;
}
/** A Vagrant box as Packer writes it with compression_level 0: a plain tar of the disk and metadata. */
function box(name: string, files: Record<string, Buffer>): string {
  const src = join(dir, `${name}-src`);
  mkdirSync(src, { recursive: true });
  for (const [f, data] of Object.entries(files)) writeFileSync(join(src, f), data);
  const out = join(dir, `${name}.box`);
  execFileSync('tar', ['-cf', out, '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-C', src, ...Object.keys(files).sort()]);
  return out;
}

const image = disk(48 * MiB, 'disk');
const metadata = Buffer.from('{"provider":"libvirt","format":"qcow2","virtual_size":3}\n');

test('the resync points do not depend on how the input is read, and every segment is within the bounds', () => {
  const data = disk(12 * MiB, 'points');
  const cutsOf = (slice: number) => {
    const points = new ResyncPoints();
    const cuts: number[] = [];
    for (let at = 0; at < data.length; at += slice) for (const end of points.push(data.subarray(at, at + slice))) cuts.push(at + end);
    return cuts;
  };
  const whole = cutsOf(data.length);
  for (const slice of [1000, 65536, 1048577]) assert.equal(cutsOf(slice), whole, `slices of ${slice}`);
  for (const [i, end] of whole.entries()) {
    const length = end - (whole[i - 1] ?? 0);
    assert.ok(length >= RESYNC.min && length <= RESYNC.max, `${length}`);
  }
  const average = (whole.at(-1) as number) / whole.length;
  assert.ok(average > RESYNC.avg / 2 && average < RESYNC.avg * 2, `average ${average}`);
});

test('a plain tar becomes a gzip that tar and gzip read back byte for byte, no bigger than gzip -6', async () => {
  const path = box('plain', { 'box.img': image, 'metadata.json': metadata });
  const tar = readFileSync(path);
  await resyncBox(path);
  assert.ok(readFileSync(path).subarray(0, 2).equals(Buffer.from([0x1f, 0x8b])), 'gzip magic');
  assert.ok(execFileSync('gzip', ['-dc', path], { maxBuffer: 2 ** 30 }).equals(tar));
  assert.match(execFileSync('tar', ['-tzf', path], { encoding: 'utf8' }), /box\.img\nmetadata\.json/);
  writeFileSync(join(dir, 'plain.tar'), tar);
  execFileSync('gzip', ['-6', '-k', '-f', join(dir, 'plain.tar')]);
  const ours = statSync(path).size;
  const gnu = statSync(join(dir, 'plain.tar.gz')).size;
  assert.ok(ours <= gnu * 1.01, `ours ${ours} bytes, gzip -6 ${gnu}`);
});

test('a box Packer already gzipped is recompressed the same way', async () => {
  const path = box('gzipped', { 'box.img': image.subarray(0, 4 * MiB), 'metadata.json': metadata });
  const tar = readFileSync(path);
  execFileSync('gzip', ['-6', '-f', path]);
  writeFileSync(path, readFileSync(`${path}.gz`));
  await resyncBox(path);
  assert.ok(execFileSync('gzip', ['-dc', path], { maxBuffer: 2 ** 30 }).equals(tar));
});

test('two boxes that differ by a file in the middle share their compressed chunks: the delta is that file and a little', async () => {
  // Incompressible, like an image layer: its compressed size is its size.
  const extra = Buffer.concat(Array.from({ length: 3 * 2 ** 15 }, (_, i) => createHash('sha256').update(`extra:${i}`).digest()));
  const changed = Buffer.concat([image.subarray(0, 24 * MiB), extra, image.subarray(24 * MiB)]);
  const [a, b] = [box('first', { 'box.img': image, 'metadata.json': metadata }), box('second', { 'box.img': changed, 'metadata.json': metadata })];
  await Promise.all([resyncBox(a), resyncBox(b)]);
  const [ia, ib] = await Promise.all([indexFile(a), indexFile(b)]);
  const plan = planDelta(ib, localChunks([{ file: a, index: ia }]));
  const extraCompressed = execFileSync('gzip', ['-6c'], { input: extra, maxBuffer: 2 ** 30 }).length;
  // The index's chunks are the compressor's segments: the file, the segment it begins in, and the compressor's way
  // back in step (32 KiB of the same input, then its next flush, at most a segment later).
  assert.ok(plan.fetchBytes <= extraCompressed + 3 * RESYNC.max, `fetch ${plan.fetchBytes} of ${ib.size} (the extra is ${extraCompressed} compressed)`);
  assert.ok(plan.fetchBytes < ib.size / 2, `fetch ${plan.fetchBytes} of ${ib.size}`);
  assert.ok(plan.fetchBytes >= extraCompressed, 'the new file itself is fetched');
});

test('an interrupted recompression leaves the box as it was', async () => {
  const path = box('kept', { 'box.img': image.subarray(0, 8 * MiB), 'metadata.json': metadata });
  const before = readFileSync(path);
  const controller = new AbortController();
  controller.abort();
  let failed = false;
  await resyncBox(path, { signal: controller.signal }).catch(() => {
    failed = true;
  });
  assert.ok(failed);
  assert.ok(readFileSync(path).equals(before));
  assert.not.ok(statSync(`${path}.resync`, { throwIfNoEntry: false }), 'no temporary file left');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
