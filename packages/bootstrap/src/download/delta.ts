/**
 * A delta download: the new box's chunk index says which content-defined chunks make it up; older box files here
 * are cut the same way, every chunk they have is copied from them, and only the rest is fetched, with the same
 * parallel ranged pieces as a whole download. The index is untrusted (bounded, checked, and never trusted for the
 * result): the caller verifies the whole file's SHA-256 against the catalog and falls back to the whole download
 * on any doubt. Resumable: a state file beside the output lists the fetched pieces of this very plan.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, lstat, open, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchCatalogDocument, indexFile, localChunks, parseChunkIndex, planDelta } from '@airy/box-catalog';
import { formatBytes, writeFileAtomic } from '@airy/cli-kit';
import type { Chunk } from '../ranges.js';
import { defaultChunkSize, MiB, partPath } from './files.js';
import { fetchPieces } from './pieces.js';
import { orderedHasher } from './verify.js';
import { asDiskFull, type DeltaRequest, type DownloadRequest } from './request.js';

/** The most an index document may be: a box of hundreds of GB, cut at the minimum chunk size. */
const MAX_INDEX_BYTES = 64 * MiB;

/** Below this share of the new box found here, a delta costs more than it saves. */
const MIN_SHARED = 0.1;

/** A reason to download the whole file instead; said, never an error. */
export class DeltaFallback extends Error {}

const deltaStatePath = (out: string) => `${out}.delta.json`;

/** What the delta state file holds: this very file and plan, and the pieces fetched. */
interface DeltaState {
  readonly url: string;
  readonly sha256: string;
  readonly size: number;
  readonly validator: string;
  readonly plan: string;
  readonly done: readonly number[];
}

function readState(text: string): DeltaState | undefined {
  try {
    const s = JSON.parse(text) as DeltaState;
    const ok =
      typeof s.url === 'string' &&
      typeof s.sha256 === 'string' &&
      Number.isSafeInteger(s.size) &&
      typeof s.validator === 'string' &&
      typeof s.plan === 'string' &&
      Array.isArray(s.done) &&
      s.done.every((n) => Number.isSafeInteger(n) && n >= 0);
    return ok ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Copies `length` bytes at `from` of `source` to `to` of `handle`, through one reused buffer. */
async function copyRange(source: FileHandle, from: number, handle: FileHandle, to: number, length: number, buffer: Buffer): Promise<void> {
  for (let done = 0; done < length; ) {
    const { bytesRead } = await source.read(buffer, 0, Math.min(buffer.length, length - done), from + done);
    if (bytesRead === 0) throw new DeltaFallback('an older box is shorter than its chunks say');
    await handle.write(buffer, 0, bytesRead, to + done);
    done += bytesRead;
  }
}

/**
 * Builds `out`'s part file from the seeds and the fetched rest. Returns the bytes reused and fetched; throws
 * {@link DeltaFallback} when the delta cannot be used (the caller then downloads the whole file).
 */
export async function deltaInto(
  request: DownloadRequest & { delta: DeltaRequest },
  info: { size: number; ranged: boolean; validator: string },
  hooks: { onPlan: (reusedBytes: number) => void; onBytes: (n: number) => void },
): Promise<{ reusedBytes: number; fetchedBytes: number; sha256: string }> {
  const { delta, out, sha256 } = request;
  if (!info.ranged) throw new DeltaFallback('the server does not serve ranges');
  const seeds: string[] = [];
  for (const seed of delta.seeds) {
    const s = await lstat(seed).catch(() => undefined);
    if (s?.isFile() && seed !== out) seeds.push(seed);
  }
  if (seeds.length === 0) throw new DeltaFallback('no older box here to take chunks from');
  const text = await fetchCatalogDocument(delta.chunksUrl, { maxBytes: MAX_INDEX_BYTES }).catch((error: Error) => {
    throw new DeltaFallback(`the chunk index cannot be read (${error.message})`);
  });
  if (text === undefined) throw new DeltaFallback('the chunk index is missing');
  let index: ReturnType<typeof parseChunkIndex>;
  try {
    index = parseChunkIndex(text, delta.chunksUrl, { size: info.size, sha256 });
  } catch (error) {
    throw new DeltaFallback((error as Error).message);
  }
  const local = localChunks(await Promise.all(seeds.map(async (file) => ({ file, index: await indexFile(file, { signal: request.signal }) }))));
  const plan = planDelta(index, local);
  if (plan.reusedBytes === 0) throw new DeltaFallback('the older boxes share no chunk with the new one');
  // Sharing a sliver, the whole download is the quicker: it hashes while it fetches (bench:delta, unrelated boxes).
  if (plan.reusedBytes < info.size * MIN_SHARED) {
    throw new DeltaFallback(`the older boxes share only ${((100 * plan.reusedBytes) / info.size).toFixed(1)}% of the new one`);
  }
  delta.onPlan?.({ reusedBytes: plan.reusedBytes, fetchBytes: plan.fetchBytes, size: info.size, seeds: seeds.length });
  hooks.onPlan(plan.reusedBytes);

  // The fetch, as pieces the parallel downloader takes: each range cut to the whole download's chunk size.
  const pieceSize = request.chunkSize ?? defaultChunkSize(info.size);
  const pieces: Chunk[] = [];
  for (const range of plan.fetch) {
    for (let start = range.start; start <= range.end; start += pieceSize) pieces.push({ index: pieces.length, start, end: Math.min(range.end, start + pieceSize - 1) });
  }
  const planDigest = createHash('sha256').update(JSON.stringify([plan.copy.map((c) => [c.to, c.length]), pieces])).digest('hex');
  const wanted = { url: request.url, sha256, size: info.size, validator: info.validator, plan: planDigest };
  const saved = await readFile(deltaStatePath(out), 'utf8').then(readState, () => undefined);
  const part = partPath(out);
  const partInfo = await lstat(part).catch(() => undefined);
  const resume =
    saved !== undefined &&
    saved.url === wanted.url &&
    saved.sha256 === wanted.sha256 &&
    saved.size === wanted.size &&
    saved.validator === wanted.validator &&
    saved.plan === wanted.plan &&
    partInfo?.isFile() === true &&
    partInfo.size === info.size;
  const done = new Set(resume ? saved.done : []);
  if (!resume) await rm(part, { force: true });
  const flags = resume ? constants.O_RDWR | constants.O_NOFOLLOW : constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const handle = await open(part, flags, 0o644).catch((e) => asDiskFull(e, dirname(out), info.size));
  try {
    await handle.truncate(info.size).catch((e) => asDiskFull(e, dirname(out), info.size));
    // The reused chunks, copied again on a resume too (local and quick): the fetched pieces are what is saved.
    const buffer = Buffer.allocUnsafe(MiB);
    const sources = new Map<string, FileHandle>();
    try {
      for (const c of plan.copy) {
        let source = sources.get(c.file);
        if (!source) {
          source = await open(c.file, 'r');
          sources.set(c.file, source);
        }
        await copyRange(source, c.from, handle, c.to, c.length, buffer).catch((e) => asDiskFull(e, dirname(out), info.size));
      }
    } finally {
      await Promise.all([...sources.values()].map((s) => s.close()));
    }
    // The whole file's SHA-256, fed in file order as segments are in place (the copies now, each piece as it
    // arrives), so little is left to hash at the end: segments are the copies and the pieces, by offset.
    const segments = [
      ...plan.copy.map((c) => ({ start: c.to, end: c.to + c.length - 1, piece: -1 })),
      ...pieces.map((p) => ({ start: p.start, end: p.end, piece: p.index })),
    ]
      .sort((a, b) => a.start - b.start)
      .map((s, index) => ({ ...s, index }));
    const segmentOf = new Map(segments.filter((s) => s.piece >= 0).map((s) => [s.piece, s.index]));
    const inPlace = new Set(segments.filter((s) => s.piece < 0 || done.has(s.piece)).map((s) => s.index));
    const hasher = orderedHasher(part, segments, inPlace);
    hasher.advance();
    let saving = Promise.resolve();
    const save = () => {
      saving = saving.then(() => writeFileAtomic(deltaStatePath(out), JSON.stringify({ ...wanted, done: [...done].sort((a, b) => a - b) })));
      return saving;
    };
    await save();
    const todo = pieces.filter((p) => !done.has(p.index));
    const fetchedBytes = todo.reduce((n, p) => n + p.end - p.start + 1, 0);
    const onChunkDone = async (i: number) => {
      done.add(i);
      inPlace.add(segmentOf.get(i) as number);
      hasher.advance();
      await save();
    };
    if (request.url.startsWith('file:')) {
      // A file: catalog on a share (a team's file server): the missing pieces are read from the new box itself.
      const source = await open(fileURLToPath(request.url), 'r');
      try {
        for (const p of todo) {
          await copyRange(source, p.start, handle, p.start, p.end - p.start + 1, buffer).catch((e) => asDiskFull(e, dirname(out), info.size));
          hooks.onBytes(p.end - p.start + 1);
          await onChunkDone(p.index);
        }
      } finally {
        await source.close();
      }
    } else await fetchPieces(request, todo, handle, { onBytes: hooks.onBytes, onChunkDone });
    await saving;
    return { reusedBytes: plan.reusedBytes, fetchedBytes, sha256: await hasher.digest() };
  } finally {
    await handle.close();
  }
}

/** Removes a delta's state (after success, or before falling back). */
export async function clearDelta(out: string): Promise<void> {
  await rm(deltaStatePath(out), { force: true });
}

/** The most older boxes a delta reads: each is cut and hashed whole, so a folder of many must not cost minutes. */
const MAX_SEEDS = 3;

/**
 * Older box files in `folder` (`*.box`, plain files, newest first, at most {@link MAX_SEEDS}) other than `except`:
 * what a delta takes chunks from (bootstrap's cache, the folder of `--out`).
 */
export async function boxSeeds(folder: string, except: string): Promise<string[]> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const files = await Promise.all(
    names
      .filter((n) => n.endsWith('.box'))
      .map(async (n) => {
        const path = join(folder, n);
        const info = await lstat(path).catch(() => undefined);
        return info?.isFile() && resolve(path) !== resolve(except) ? { path, mtime: info.mtimeMs } : undefined;
      }),
  );
  return files
    .filter((f): f is { path: string; mtime: number } => f !== undefined)
    .sort((a, b) => b.mtime - a.mtime)
    .slice(0, MAX_SEEDS)
    .map((f) => f.path);
}

/** What a delta download says, through `log`: its plan, or why the whole box is downloaded instead. */
export function deltaLog(log: (line: string) => void): Pick<DeltaRequest, 'onPlan' | 'onFallback' | 'onDone'> {
  return {
    onPlan: (p) =>
      log(`delta: ${formatBytes(p.reusedBytes)} of ${formatBytes(p.size)} reused from ${p.seeds === 1 ? 'an older box' : `${p.seeds} older boxes`}; fetching ${formatBytes(p.fetchBytes)}`),
    onFallback: (reason) => log(`delta: not used (${reason}); downloading the whole box`),
    onDone: (d) => log(`delta: fetched ${formatBytes(d.fetchedBytes)} of ${formatBytes(d.size)}; ${formatBytes(d.reusedBytes)} came from older boxes`),
  };
}
