/**
 * A delta download: the new box's chunk index says which chunks make it up (the compressor's segments); older box
 * files here are known by their own index (kept beside each box this downloader wrote, else cut anew), every chunk
 * they have is copied from them, each verified as it is read, and only the rest is fetched, with the same parallel
 * ranged pieces as a whole download. Indexes are untrusted (bounded, checked, and never trusted for the result): the
 * caller verifies the whole file's SHA-256 against the catalog and falls back to the whole download on any doubt.
 * Resumable: a state file beside the output lists the fetched pieces of this very plan.
 */
import { createHash } from 'node:crypto';
import { type FileHandle, lstat, open, readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CHUNKING,
  type ChunkIndex,
  chunkMatches,
  chunkIndexName,
  fetchCatalogDocument,
  indexFile,
  localChunks,
  parseChunkIndex,
  planDelta,
  stringifyChunkIndex,
} from '@airy/box-catalog';
import { formatBytes, writeFileAtomic } from '@airy/cli-kit';
import { errorCode } from '../errors.js';
import type { Block } from './blocks.js';
import { defaultBlockSize, isWithin, MiB, openLocalBox } from './files.js';
import { fetchPieces } from './pieces.js';
import { orderedHasher } from './verify.js';
import { asDiskFull, type DeltaRequest, type DownloadRequest } from './request.js';
import { checkDeltaState, type DeltaState, deltaFiles, openPart, savedState, stateSaver } from './resume.js';

/** The most an index document may be: a box of hundreds of GB (see box-catalog's MAX_CHUNKS). */
const MAX_INDEX_BYTES = 64 * MiB;

/** Below this share of the new box found here, a delta costs more than it saves. */
const MIN_SHARED = 0.1;

/**
 * A reason to download the whole file instead; said (unless `quiet`: nothing to say on a first download), never an
 * error. `falseIndex`: the new box's index was proven false, so it is not kept beside the box.
 */
export class DeltaFallback extends Error {
  constructor(
    message: string,
    readonly quiet = false,
    readonly falseIndex = false,
  ) {
    super(message);
  }
}

/**
 * The new box's index document, fetched (bounded); started beside the probe of the box, so that it costs no round
 * trip of its own. Rejects with a {@link DeltaFallback}.
 */
export async function fetchDeltaIndex(chunksUrl: string, localRoot?: string): Promise<string> {
  const local = chunksUrl.startsWith('file:') ? (() => { try { return fileURLToPath(chunksUrl); } catch { return ''; } })() : undefined;
  if (local === '') throw new DeltaFallback('the chunk index names a file on another machine');
  if (localRoot !== undefined && local !== undefined && !(await isWithin(local, localRoot))) {
    throw new DeltaFallback(`the chunk index is outside the catalog's folder (${localRoot})`);
  }
  const text = await fetchCatalogDocument(chunksUrl, { maxBytes: MAX_INDEX_BYTES }).catch((error: Error) => {
    throw new DeltaFallback(`the chunk index cannot be read (${error.message})`);
  });
  if (text === undefined) throw new DeltaFallback('the chunk index is missing');
  return text;
}

/** The new box's index, read as untrusted input (checked against the catalog's size and SHA-256). */
export function parseDeltaIndex(text: string, chunksUrl: string, expected: { size: number; sha256: string }): ChunkIndex {
  try {
    return parseChunkIndex(text, chunksUrl, expected);
  } catch (error) {
    throw new DeltaFallback((error as Error).message);
  }
}

/**
 * Keeps a box's index beside it (`FILE.chunks.json`), so that the next delta knows the box without cutting and
 * hashing it whole. Best effort: without it, the next delta cuts the box anew.
 */
export async function keepIndex(out: string, index: ChunkIndex): Promise<void> {
  await writeFileAtomic(chunkIndexName(out), stringifyChunkIndex(index)).catch(() => undefined);
}

/** Removes the index kept beside a box (before the box at that path is replaced, or with it). */
export async function dropIndex(out: string): Promise<void> {
  await rm(chunkIndexName(out), { force: true });
}

/**
 * An older box's index: the one kept beside it when it is sound and of a file of its size (each chunk taken is
 * verified anyway), else the box cut and hashed anew.
 */
/**
 * What an older box that cannot be read (gone since it was listed, no permission, an I/O error) becomes: a reason to
 * download the whole box, like every other doubt. An interruption stays one.
 */
const unreadable =
  (file: string, signal?: AbortSignal) =>
  (error: unknown): never => {
    if (signal?.aborted || error instanceof DeltaFallback) throw error;
    throw new DeltaFallback(`an older box cannot be read (${basename(file)}: ${errorCode(error) ?? 'unreadable'})`);
  };

async function seedIndex(seed: string, size: number, signal?: AbortSignal): Promise<ChunkIndex> {
  const kept = chunkIndexName(seed);
  const info = await lstat(kept).catch(() => undefined);
  if (info?.isFile() && info.size <= MAX_INDEX_BYTES) {
    try {
      return parseChunkIndex(await readFile(kept, 'utf8'), kept, { size });
    } catch {
      // Unsound or of another file: cut anew below.
    }
  }
  return await indexFile(seed, { signal }).catch(unreadable(seed, signal));
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
 * Copies one run of chunks from an older box, each verified against its hash before it is written: whole chunks
 * read together up to the buffer's size, so that a run of many small chunks costs few reads and writes.
 */
async function copyChunks(
  source: FileHandle,
  run: ReturnType<typeof planDelta>['copy'][number],
  index: ChunkIndex,
  handle: FileHandle,
  buffer: Buffer,
): Promise<void> {
  const end = run.first + run.count;
  const lengthOf = (k: number) => index.lengths[k] as number;
  let at = 0;
  for (let i = run.first; i < end; ) {
    let span = 0;
    let j = i;
    for (; j < end && (j === i || span + lengthOf(j) <= buffer.length); j++) span += lengthOf(j);
    const { bytesRead } = await source.read(buffer, 0, span, run.from + at).catch(unreadable(run.file));
    if (bytesRead !== span) throw new DeltaFallback('an older box is shorter than its index says');
    for (let k = i, offset = 0; k < j; k++) {
      if (!chunkMatches(index, k, buffer.subarray(offset, offset + lengthOf(k)))) {
        // The index kept beside that box (if it was one) is not the box's: the next delta cuts the box anew.
        await rm(chunkIndexName(run.file), { force: true }).catch(() => undefined);
        throw new DeltaFallback(`an older box is not what its index says (at byte ${run.from + at + offset})`);
      }
      offset += lengthOf(k);
    }
    await handle.write(buffer, 0, span, run.to + at);
    at += span;
    i = j;
  }
}

/**
 * Builds `out`'s part file from the seeds and the fetched rest, to the new box's `index` (from
 * {@link parseDeltaIndex}). Returns the bytes reused and fetched; throws {@link DeltaFallback} when the delta cannot be
 * used (the caller then downloads the whole file).
 */
export async function deltaInto(
  request: DownloadRequest & { delta: DeltaRequest },
  info: { size: number; ranged: boolean; validator: string },
  index: ChunkIndex,
  hooks: { onPlan: (reusedBytes: number, resumedBytes: number) => void; onBytes: (n: number) => void },
  /** What an interrupted whole download of this box has left to fetch: a delta that would fetch as much is not tried. */
  wholeLeft = Number.POSITIVE_INFINITY,
): Promise<{ reusedBytes: number; fetchedBytes: number; sha256: string }> {
  const { delta, out, sha256 } = request;
  if (!info.ranged) throw new DeltaFallback('the server does not serve ranges');
  const seeds: { file: string; size: number }[] = [];
  for (const seed of delta.seeds) {
    const s = await lstat(seed).catch(() => undefined);
    if (s?.isFile() && seed !== out) seeds.push({ file: seed, size: s.size });
  }
  if (seeds.length === 0) throw new DeltaFallback('no older box here to take chunks from', true);
  const local = localChunks(await Promise.all(seeds.map(async ({ file, size }) => ({ file, index: await seedIndex(file, size, request.signal) }))));
  const plan = planDelta(index, local);
  // The plan must build exactly the box's size (the index's lengths add up to it; this says so before a write).
  const planned = plan.copy.reduce((n, c) => n + c.length, 0) + plan.fetch.reduce((n, f) => n + f.end - f.start + 1, 0);
  if (planned !== info.size) throw new DeltaFallback(`the plan builds ${planned} bytes, not the box's ${info.size}`);
  if (plan.reusedBytes === 0) throw new DeltaFallback('the older boxes share no chunk with the new one');
  // Sharing a sliver, the whole download is the quicker: it hashes while it fetches (bench:delta, unrelated boxes).
  if (plan.reusedBytes < info.size * MIN_SHARED) {
    throw new DeltaFallback(`the older boxes share only ${((100 * plan.reusedBytes) / info.size).toFixed(1)}% of the new one`);
  }
  if (plan.fetchBytes >= wholeLeft) {
    throw new DeltaFallback(`the interrupted whole download has less left to fetch (${formatBytes(wholeLeft)}, the delta ${formatBytes(plan.fetchBytes)})`);
  }
  delta.onPlan?.({ reusedBytes: plan.reusedBytes, fetchBytes: plan.fetchBytes, size: info.size, seeds: seeds.length });

  // The fetch, as pieces the parallel downloader takes: each range cut to the whole download's block size.
  const pieceSize = request.blockSize ?? defaultBlockSize(info.size);
  const pieces: Block[] = [];
  for (const range of plan.fetch) {
    for (let start = range.start; start <= range.end; start += pieceSize) pieces.push({ index: pieces.length, start, end: Math.min(range.end, start + pieceSize - 1) });
  }
  const planDigest = createHash('sha256').update(JSON.stringify([plan.copy.map((c) => [c.to, c.length]), pieces])).digest('hex');
  const wanted = { url: request.url, sha256, size: info.size, validator: info.validator, plan: planDigest };
  const files = deltaFiles(out);
  const part = files.part;
  const saved = await savedState<DeltaState>(files, checkDeltaState, wanted, info.size);
  const done = new Set(saved?.done ?? []);
  // Only the pieces fetched before are a resume; the reused bytes are not (they are copied again, below).
  hooks.onPlan(plan.reusedBytes, pieces.filter((p) => done.has(p.index)).reduce((n, p) => n + p.end - p.start + 1, 0));
  const handle = await openPart(files, saved !== undefined, info.size);
  try {
    await handle.truncate(info.size).catch((e) => asDiskFull(e, dirname(out), info.size));
    // The whole file's SHA-256, fed in file order as segments are in place (each copied run and each fetched
    // piece as it is written), so little is left to hash at the end: segments are the runs and the pieces, by offset.
    const segments = [
      ...plan.copy.map((c, run) => ({ start: c.to, end: c.to + c.length - 1, piece: -1, run })),
      ...pieces.map((p) => ({ start: p.start, end: p.end, piece: p.index, run: -1 })),
    ]
      .sort((a, b) => a.start - b.start)
      .map((s, index) => ({ ...s, index }));
    const segmentOf = new Map(segments.filter((s) => s.piece >= 0).map((s) => [s.piece, s.index]));
    const segmentOfRun = new Map(segments.filter((s) => s.run >= 0).map((s) => [s.run, s.index]));
    const inPlace = new Set(segments.filter((s) => s.piece >= 0 && done.has(s.piece)).map((s) => s.index));
    const hasher = orderedHasher(part, segments, inPlace);
    hasher.advance();
    const saver = stateSaver(files, (): DeltaState => ({ ...wanted, done: [...done].sort((a, b) => a - b) }));
    const save = saver.save;
    await save();
    const todo = pieces.filter((p) => !done.has(p.index));
    const fetchedBytes = todo.reduce((n, p) => n + p.end - p.start + 1, 0);
    const onBlockDone = async (i: number) => {
      done.add(i);
      inPlace.add(segmentOf.get(i) as number);
      hasher.advance();
      await save();
    };
    // The copy (disk) and the fetch (network) at once; either failing stops the other.
    const stop = new AbortController();
    const signal = request.signal ? AbortSignal.any([request.signal, stop.signal]) : stop.signal;
    const copying = async () => {
      // The reused chunks, copied again on a resume too (local and quick): the fetched pieces are what is saved.
      const buffer = Buffer.allocUnsafe(Math.max(4 * MiB, CHUNKING.max));
      const sources = new Map<string, FileHandle>();
      try {
        for (const [i, run] of plan.copy.entries()) {
          if (signal.aborted) return;
          let source = sources.get(run.file);
          if (!source) {
            source = await open(run.file, 'r').catch(unreadable(run.file, signal));
            sources.set(run.file, source);
          }
          await copyChunks(source, run, index, handle, buffer).catch((e) => asDiskFull(e, dirname(out), info.size));
          inPlace.add(segmentOfRun.get(i) as number);
          hasher.advance();
        }
      } finally {
        await Promise.all([...sources.values()].map((s) => s.close()));
      }
    };
    const fetching = async () => {
      if (!request.url.startsWith('file:')) {
        await fetchPieces({ ...request, signal }, todo, handle, { onBytes: hooks.onBytes, onBlockDone });
        return;
      }
      // A file: catalog on a share (a team's file server): the missing pieces are read from the new box itself.
      const buffer = Buffer.allocUnsafe(MiB);
      const { handle: source } = await openLocalBox(request.url, request.localRoot);
      try {
        for (const p of todo) {
          if (signal.aborted) return;
          await copyRange(source, p.start, handle, p.start, p.end - p.start + 1, buffer).catch((e) => asDiskFull(e, dirname(out), info.size));
          hooks.onBytes(p.end - p.start + 1);
          await onBlockDone(p.index);
        }
      } finally {
        await source.close();
      }
    };
    const stopping = (error: unknown) => {
      stop.abort();
      throw error;
    };
    const [copied, fetched] = await Promise.allSettled([copying().catch(stopping), fetching().catch(stopping)]);
    // The copy's failure first: the fetch's is then only its being stopped.
    if (copied.status === 'rejected') throw copied.reason;
    if (fetched.status === 'rejected') throw fetched.reason;
    await saver.last();
    return { reusedBytes: plan.reusedBytes, fetchedBytes, sha256: await hasher.digest() };
  } finally {
    await handle.close();
  }
}

/** The most older boxes a delta reads: one without a kept index is cut and hashed whole; a folder of many must not cost minutes. */
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

/**
 * The delta for a download into `out` of a box whose catalog entry names its index (`chunksUrl`; none: no delta):
 * the older boxes in the folder of `out` as seeds, and what it does said through `log`.
 */
export async function deltaRequest(
  chunksUrl: string | undefined,
  out: string,
  log: (line: string) => void,
  signedIndex?: DeltaRequest['signedIndex'],
): Promise<DeltaRequest | undefined> {
  return chunksUrl ? { chunksUrl, seeds: await boxSeeds(dirname(out), out), ...deltaLog(log), ...(signedIndex ? { signedIndex } : {}) } : undefined;
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
