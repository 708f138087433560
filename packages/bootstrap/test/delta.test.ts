/**
 * The delta download against a real HTTP server with ranges on loopback: an older box here, a new one that differs
 * by an insertion, and its chunk index beside it. Then every way the index can be missing, damaged or lying, and a
 * kill in the middle: each falls back or resumes, and the result is always the catalog's file.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addRelease, BOX_NAME, chunkIndexName, chunkIndexOf, chunkList, emptyCatalog, indexFile, stringifyCatalog, stringifyChunkIndex } from '@airy/box-catalog';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBinAsync } from '../../../tools/testing/cli.ts';
import { startHttp } from '../../../tools/testing/http.ts';
import { bytes, FLUSH_MARKER, flushed } from '../../../tools/testing/streams.ts';
import { boxSeeds, download, DownloadError, SizeMismatchError } from '../src/download/index.ts';

const MiB = 2 ** 20;
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'airy-delta-'));
// Streams cut as the box's compressor cuts them (segments ended by a flush's marker): an inserted segment is new.
const old = flushed(1200, 'old');
const inserted = Buffer.concat([bytes(2 * MiB - FLUSH_MARKER.length, 'new part'), FLUSH_MARKER]);
const at = old.indexOf(FLUSH_MARKER, 20 * MiB) + FLUSH_MARKER.length;
const next = Buffer.concat([old.subarray(0, at), inserted, old.subarray(at)]);
const sha256 = createHash('sha256').update(next).digest('hex');
mkdirSync(join(root, 'www'));
writeFileSync(join(root, 'www', 'new.box'), next);
writeFileSync(join(root, 'www', 'new.box.chunks.json'), stringifyChunkIndex(await indexFile(join(root, 'www', 'new.box'))));
const http = await startHttp(join(root, 'www'));
const url = `${http.url}/new.box`;
const chunksUrl = `${http.url}/new.box.chunks.json`;
const fetchedBytes = () =>
  http.requests
    .filter((r) => r.startsWith('GET /new.box bytes='))
    .map((r) => /bytes=(\d+)-(\d+)$/.exec(r))
    .reduce((n, m) => n + (m ? Number(m[2]) - Number(m[1]) + 1 : 0), 0);

/** A folder with the older box, as bootstrap's cache or the folder of --out holds it. */
function folderWithOld(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'old.box'), old);
  return dir;
}

test.before.each(() => {
  http.requests.length = 0;
  http.fault = undefined;
});

test('the older box gives every chunk the new one shares: only the insertion and its neighbours are fetched', async () => {
  const dir = folderWithOld('delta');
  const plans: { reusedBytes: number; fetchBytes: number }[] = [];
  const out = join(dir, 'new.box');
  const seeds = await boxSeeds(dir, out);
  assert.equal(seeds, [join(dir, 'old.box')]);
  const resumed: number[] = [];
  const result = await download({ url, sha256, out, onStart: (i) => resumed.push(i.resumedBytes), delta: { chunksUrl, seeds, onPlan: (p) => plans.push(p) } });
  assert.ok(readFileSync(out).equals(next));
  assert.ok(result.delta, 'the delta was used');
  // The reused bytes are no resume: nothing is said to be `already here` from an earlier run.
  assert.equal(resumed, [0]);
  assert.is(result.resumedBytes, 0);
  // The plan: the inserted segment, nothing else; the server was asked for at least that.
  const planned = result.delta?.fetchedBytes ?? Infinity;
  assert.is(planned, inserted.length);
  assert.ok(fetchedBytes() >= planned);
  assert.is(result.delta?.fetchedBytes, plans[0]?.fetchBytes);
  assert.is((result.delta?.reusedBytes ?? 0) + (result.delta?.fetchedBytes ?? 0), next.length);
  assert.not.ok(existsSync(`${out}.delta.json`) || existsSync(`${out}.part`), 'no state or part left');
});

for (const [name, setup, reason] of [
  ['a missing index', () => rmSync(join(root, 'www', 'missing.chunks.json'), { force: true }), /the chunk index is missing/],
  ['an index of another box', () => writeFileSync(join(root, 'www', 'missing.chunks.json'), stringifyChunkIndex(chunkIndexOf(1, 'a'.repeat(64), [{ length: 1, hash: 'b'.repeat(32) }]))), /is of another box/],
  ['an index that is no JSON', () => writeFileSync(join(root, 'www', 'missing.chunks.json'), '{"format":'), /not valid JSON/],
] as const) {
  test(`${name}: one line says why, and the whole box is downloaded and verified`, async () => {
    setup();
    const dir = folderWithOld(`fallback-${name.replaceAll(' ', '-')}`);
    const out = join(dir, 'new.box');
    const said: string[] = [];
    const result = await download({ url, sha256, out, delta: { chunksUrl: `${http.url}/missing.chunks.json`, seeds: [join(dir, 'old.box')], onFallback: (r) => said.push(r) } });
    assert.match(said.join('\n'), reason);
    assert.is(result.delta, undefined);
    assert.ok(readFileSync(out).equals(next));
    // Every byte was asked for (a tail handed over to another connection is asked for twice).
    assert.ok(fetchedBytes() >= next.length, `asked for ${fetchedBytes()} bytes`);
  });
}

test('an index that lies about its chunks: the assembled file fails the catalog’s sha256, so the whole box is fetched', async () => {
  // A sound index of the new box's size and hash, whose chunk hashes say the old box has all of it.
  const oldIndex = await indexFile(join(folderWithOld('liar'), 'old.box'));
  const tail = [0, 1].map((i) => ({ length: MiB, hash: `${i}`.padStart(32, 'c') }));
  const lie = chunkIndexOf(next.length, sha256, [...chunkList(oldIndex), ...tail]);
  writeFileSync(join(root, 'www', 'liar.chunks.json'), stringifyChunkIndex(lie));
  const said: string[] = [];
  const out = join(root, 'liar', 'new.box');
  const result = await download({ url, sha256, out, delta: { chunksUrl: `${http.url}/liar.chunks.json`, seeds: [join(root, 'liar', 'old.box')], onFallback: (r) => said.push(r) } });
  assert.match(said.join('\n'), /the assembled file's sha256 is [0-9a-f]{64}, not the catalog's/);
  assert.ok(readFileSync(out).equals(next));
  assert.is(result.delta, undefined);
  // The index proven false is not kept beside the box: the next upgrade would go by it.
  assert.not.ok(existsSync(chunkIndexName(out)), 'the lying index is not kept');
});

test('nothing to reuse (no older box, or one that shares nothing): said, and the whole box', async () => {
  const dir = join(root, 'strangers');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'other.box'), flushed(200, 'unrelated'));
  const said: string[] = [];
  // A sliver shared (its first 2 MiB of 42): the whole download is quicker than a delta.
  writeFileSync(join(dir, 'sliver.box'), Buffer.concat([next.subarray(0, next.indexOf(FLUSH_MARKER, 2 * MiB) + 4), flushed(100, 'rest')]));
  for (const seeds of [[], [join(dir, 'other.box')], [join(dir, 'sliver.box')]]) {
    rmSync(join(dir, 'new.box'), { force: true });
    await download({ url, sha256, out: join(dir, 'new.box'), delta: { chunksUrl, seeds, onFallback: (r) => said.push(r) } });
    assert.ok(readFileSync(join(dir, 'new.box')).equals(next));
  }
  // A first download has nothing to say; the others say why the whole box came.
  assert.is(said[0], 'the older boxes share no chunk with the new one');
  assert.match(said[1] ?? '', /^the older boxes share only \d\.\d% of the new one$/);
  assert.is(said.length, 2);
});

test('a box downloaded whole keeps its index beside it; the next delta takes the old box by that index, each chunk verified', async () => {
  const dir = join(root, 'kept');
  mkdirSync(dir, { recursive: true });
  // The first download: no older box, the whole box, and the index it read kept beside it.
  writeFileSync(join(root, 'www', 'old.box'), old);
  writeFileSync(join(root, 'www', 'old.box.chunks.json'), stringifyChunkIndex(await indexFile(join(root, 'www', 'old.box'))));
  const oldSha = createHash('sha256').update(old).digest('hex');
  await download({ url: `${http.url}/old.box`, sha256: oldSha, out: join(dir, 'old.box'), delta: { chunksUrl: `${http.url}/old.box.chunks.json`, seeds: [] } });
  assert.is(readFileSync(chunkIndexName(join(dir, 'old.box')), 'utf8'), readFileSync(join(root, 'www', 'old.box.chunks.json'), 'utf8'));
  // The kept index is what the delta goes by: one that no longer matches the file (a chunk of it changed on disk
  // since) is caught as the chunk is read, and the whole box comes instead.
  const damaged = Buffer.from(old);
  damaged[5 * MiB] = (damaged[5 * MiB] as number) ^ 0xff;
  writeFileSync(join(dir, 'old.box'), damaged);
  const said: string[] = [];
  const out = join(dir, 'new.box');
  const first = await download({ url, sha256, out, delta: { chunksUrl, seeds: [join(dir, 'old.box')], onFallback: (r) => said.push(r) } });
  assert.match(said.join('\n'), /an older box is not what its index says \(at byte \d+\)/);
  assert.is(first.delta, undefined);
  assert.not.ok(existsSync(chunkIndexName(join(dir, 'old.box'))), 'the older box’s index, proven false, is dropped');
  assert.ok(readFileSync(out).equals(next));
  assert.is(readFileSync(chunkIndexName(out), 'utf8'), readFileSync(join(root, 'www', 'new.box.chunks.json'), 'utf8'), 'the new box keeps its index');
  // A kept index of a file of another size is not this box's: the box is cut anew, and the delta works.
  writeFileSync(join(dir, 'old.box'), old);
  writeFileSync(chunkIndexName(join(dir, 'old.box')), stringifyChunkIndex(chunkIndexOf(1, 'a'.repeat(64), [{ length: 1, hash: 'b'.repeat(32) }])));
  rmSync(out);
  const second = await download({ url, sha256, out, delta: { chunksUrl, seeds: [join(dir, 'old.box')] } });
  assert.is(second.delta?.fetchedBytes, inserted.length);
});

test('a file: catalog on a share: the missing chunks are read from the new box there, the rest from the old one here', async () => {
  const dir = folderWithOld('file-catalog');
  const out = join(dir, 'new.box');
  const result = await download({ url: `file://${join(root, 'www', 'new.box')}`, sha256, out, delta: { chunksUrl: `file://${join(root, 'www', 'new.box.chunks.json')}`, seeds: [join(dir, 'old.box')] } });
  assert.ok(readFileSync(out).equals(next));
  assert.is(result.delta?.fetchedBytes, inserted.length, JSON.stringify(result.delta));
});

test('a delta killed in the middle resumes: the pieces fetched before are not fetched again', async () => {
  const dir = folderWithOld('resume');
  const out = join(dir, 'new.box');
  const plans: number[] = [];
  const piece = 256 * 1024;
  const request = { url, sha256, out, blockSize: piece, attempts: 1, connections: 1, delta: { chunksUrl, seeds: [join(dir, 'old.box')], onPlan: (p: { fetchBytes: number }) => plans.push(p.fetchBytes) } };
  // The server fails every piece after the first two: the first run stops there, with its state saved.
  let pieces = 0;
  http.fault = (req, res) => {
    if (!/^bytes=\d+-\d+$/.test(req.headers.range ?? '') || req.headers.range === 'bytes=0-0') return undefined;
    if (++pieces <= 2) return undefined;
    res.writeHead(500).end();
    return 'handled';
  };
  let failed: unknown;
  try {
    await download(request);
  } catch (error) {
    failed = error;
  }
  assert.ok(failed instanceof DownloadError, String(failed));
  assert.ok(existsSync(`${out}.delta.json`), 'the state of the fetched pieces is kept');
  http.fault = undefined;
  const result = await download(request);
  assert.ok(readFileSync(out).equals(next));
  // The same plan both times; the second run fetched it less the two pieces of the first.
  assert.is(plans.length, 2);
  assert.is(plans[0], plans[1]);
  assert.is(result.delta?.fetchedBytes, (plans[0] ?? 0) - 2 * piece);
  assert.is(result.resumedBytes, 2 * piece, 'the two pieces of the first run are the resume');
});

/** A catalog in the served folder for the new box, with its index named (as every published box has). */
function catalogWithIndex(): string {
  const entry = { name: 'libvirt', url, checksum_type: 'sha256', checksum: sha256, architecture: 'amd64', size: next.length, chunks_url: chunksUrl } as const;
  writeFileSync(join(root, 'www', 'metadata.json'), stringifyCatalog(addRelease(emptyCatalog(BOX_NAME), '2.0.0', entry).catalog));
  return `${http.url}/metadata.json`;
}

/** The server fails every piece of the box after the first `n` (the probe aside): a run stops there, its state saved. */
function failAfter(n: number): void {
  let pieces = 0;
  http.fault = (req, res) => {
    if (!req.url?.startsWith('/new.box') || req.url.includes('chunks') || req.headers.range === 'bytes=0-0') return undefined;
    if (++pieces <= n) return undefined;
    res.writeHead(500).end();
    return 'handled';
  };
}

const pieceStarts = () => http.requests.filter((r) => r.startsWith('GET /new.box bytes=') && !r.endsWith('bytes=0-0')).map((r) => Number(/bytes=(\d+)-/.exec(r)?.[1]));

test('an interrupted first download of a box with an index resumes: the delta never removes the whole download’s part', async () => {
  const dir = join(root, 'first-resume');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'new.box');
  const catalog = catalogWithIndex();
  const args = ['download', '--catalog', catalog, '--allow-unsigned', '--provider', 'libvirt', '--architecture', 'amd64', '--out', out, '--connections', '1'];
  failAfter(2);
  const failed = await runBinAsync(packageDir, [...args, '--retries', '1']);
  assert.is(failed.status, 1, failed.stderr);
  assert.ok(existsSync(`${out}.part`) && existsSync(`${out}.download.json`), 'the interrupted download kept its part and state');
  http.fault = undefined;
  http.requests.length = 0;
  const run = await runBinAsync(packageDir, args);
  assert.is(run.status, 0, run.stderr);
  // Two 8 MiB pieces came in the first run: they are not fetched again.
  assert.match(run.stderr, /resuming: 16\.0 MiB already here/);
  assert.ok(pieceStarts().length > 0 && pieceStarts().every((start) => start >= 16 * MiB), `fetched again: ${pieceStarts()}`);
  assert.ok(readFileSync(out).equals(next));
  assert.not.ok(existsSync(`${out}.part`) || existsSync(`${out}.delta.part`) || existsSync(`${out}.delta.json`), 'nothing left behind');
});

test('a delta that falls back beside an interrupted whole download keeps it, and resumes it', async () => {
  // The whole download stops after two pieces; then an older box appears that shares a sliver only.
  const dir = join(root, 'fallback-resume');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'new.box');
  failAfter(2);
  await download({ url, sha256, out, connections: 1, attempts: 1 }).catch(() => undefined);
  http.fault = undefined;
  http.requests.length = 0;
  writeFileSync(join(dir, 'sliver.box'), Buffer.concat([next.subarray(0, next.indexOf(FLUSH_MARKER, 2 * MiB) + 4), flushed(100, 'rest')]));
  const said: string[] = [];
  const starts: number[] = [];
  const result = await download({
    url,
    sha256,
    out,
    connections: 1,
    onStart: (i) => starts.push(i.resumedBytes),
    delta: { chunksUrl, seeds: [join(dir, 'sliver.box')], onFallback: (r) => said.push(r) },
  });
  assert.match(said.join('\n'), /share only/);
  assert.is(result.resumedBytes, 16 * MiB);
  assert.ok(pieceStarts().every((start) => start >= 16 * MiB), `fetched again: ${pieceStarts()}`);
  assert.ok(readFileSync(out).equals(next));
});

test('an interrupted whole download with less left than the delta would fetch is resumed, not replaced', async () => {
  const dir = folderWithOld('whole-nearly-done');
  const out = join(dir, 'new.box');
  // All but the last two pieces of the whole download came before: less than the delta's 2 MiB is left.
  const piece = 256 * 1024;
  const pieces = Math.ceil(next.length / piece);
  failAfter(pieces - 2);
  await download({ url, sha256, out, connections: 1, attempts: 1, blockSize: piece }).catch(() => undefined);
  http.fault = undefined;
  http.requests.length = 0;
  const said: string[] = [];
  const delta = { chunksUrl, seeds: [join(dir, 'old.box')], onFallback: (r: string) => said.push(r) };
  const result = await download({ url, sha256, out, connections: 1, blockSize: piece, delta });
  assert.match(said.join('\n'), /the interrupted whole download has less left to fetch/);
  assert.is(result.delta, undefined);
  assert.is(result.resumedBytes, (pieces - 2) * piece);
  assert.ok(readFileSync(out).equals(next));
});

test('an index of one local chunk many times over, for a box the catalog says is small: refused before a byte is written', async () => {
  const dir = folderWithOld('size-bomb');
  const out = join(dir, 'bomb.box');
  // The server's box is 40 copies of the old box's first chunk, and its index says so; the catalog says 1,000 bytes.
  const first = chunkList(await indexFile(join(dir, 'old.box')))[0] as { length: number; hash: string };
  const bomb = Buffer.concat(Array.from({ length: 40 }, () => old.subarray(0, first.length)));
  writeFileSync(join(root, 'www', 'bomb.box'), bomb);
  const chunks = Array.from({ length: 40 }, () => first);
  const bombSha = createHash('sha256').update(bomb).digest('hex');
  writeFileSync(join(root, 'www', 'bomb.box.chunks.json'), stringifyChunkIndex(chunkIndexOf(bomb.length, bombSha, chunks)));
  const refused = await download({
    url: `${http.url}/bomb.box`,
    sha256: bombSha,
    out,
    size: 1000,
    delta: { chunksUrl: `${http.url}/bomb.box.chunks.json`, seeds: [join(dir, 'old.box')] },
  }).catch((e: unknown) => e);
  assert.ok(refused instanceof SizeMismatchError, String(refused));
  assert.not.ok(existsSync(out) || existsSync(`${out}.part`) || existsSync(`${out}.delta.part`), 'nothing written');
});

test('an older box that cannot be read, or vanishes mid-way, is one line, and the whole box comes', async () => {
  const dir = folderWithOld('unreadable');
  const out = join(dir, 'new.box');
  const said: string[] = [];
  // A plain file whose every read fails (EIO): what a failing disk gives, and root is not spared.
  const unreadable = await download({ url, sha256, out, delta: { chunksUrl, seeds: ['/proc/self/mem'], onFallback: (r) => said.push(r) } });
  assert.is(unreadable.delta, undefined);
  assert.ok(readFileSync(out).equals(next));
  rmSync(out);
  rmSync(chunkIndexName(out), { force: true });
  // The older box removed once the plan is made (another run's clean-up): the copy cannot open it.
  const vanishing = await download({ url, sha256, out, delta: { chunksUrl, seeds: [join(dir, 'old.box')], onPlan: () => rmSync(join(dir, 'old.box')), onFallback: (r) => said.push(r) } });
  assert.is(vanishing.delta, undefined);
  assert.ok(readFileSync(out).equals(next));
  assert.equal(said, ['an older box cannot be read (mem: EIO)', 'an older box cannot be read (old.box: ENOENT)']);
});

test.after(async () => {
  await http.stop();
  rmSync(root, { recursive: true, force: true });
});
test.run();
