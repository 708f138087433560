/**
 * The box downloader: parallel ranged GETs, resumable across restarts from a small state file, retries with
 * backoff, one stream when the server has no ranges, SHA-256 verified before anything uses the file, and a verified
 * marker so a re-run never downloads again. Memory stays small whatever the size: bodies stream to disk.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ChunkIndex } from '@airy/box-catalog';
import { acquireLock } from '@airy/cli-kit';
import { errorCode } from '../errors.js';
import { addWritten, type Block, planBlocks, remainingPieces } from './blocks.js';
import { checkOutput, defaultBlockSize, MiB, openLocalBox, remoteSizeHint } from './files.js';
import { fetchInto, probe, withRetries } from './http.js';
import { fetchPieces } from './pieces.js';
import {
  asDiskFull,
  ChecksumError,
  type DeltaRequest,
  DiskFullError,
  type DownloadRequest,
  type DownloadResult,
  SizeMismatchError,
} from './request.js';
import { hashFile, isVerified, orderedHasher, writeMarker } from './verify.js';
import { DeltaFallback, deltaInto, dropIndex, fetchDeltaIndex, keepIndex, parseDeltaIndex } from './delta.js';
import { checkResumeState, clearParts, deltaFiles, openPart, type ResumeState, savedState, stateSaver, wholeFiles } from './resume.js';

// The public shapes and checks live beside the parts; importers read them from here.
export { boxSeeds, deltaRequest } from './delta.js';
export { ANYWHERE_ENV, defaultBlockSize, localRootOf } from './files.js';
export {
  ChecksumError,
  type DeltaRequest,
  DiskFullError,
  DownloadError,
  type DownloadRequest,
  type DownloadResult,
  OutputPathError,
  SizeMismatchError,
} from './request.js';
export { isVerified } from './verify.js';

/** Downloads and verifies; see the module comment. A second run with the same request is a no-op. */
export async function download(request: DownloadRequest): Promise<DownloadResult> {
  try {
    return await downloadLocked(request);
  } catch (error) {
    // The disk can fill anywhere (the lock, the box, the state file, the marker): one error, with the box's size
    // (the catalog's, else the one the download learnt) and the option that chooses another folder.
    const full = error instanceof DiskFullError ? error : errorCode(error) === 'ENOSPC' ? new DiskFullError(dirname(request.out), 0) : undefined;
    if (!full) throw error;
    const needed = request.size || full.needed || (await remoteSizeHint(request.out));
    throw new DiskFullError(full.dir, needed, request.folderOption);
  }
}

async function downloadLocked(request: DownloadRequest): Promise<DownloadResult> {
  const { out, sha256 } = request;
  await checkOutput(out);
  await mkdir(dirname(out), { recursive: true });
  const release = await acquireLock(`${out}.lock`);
  try {
    if (await isVerified(out, sha256)) {
      const { size } = await stat(out);
      return { path: out, size, cached: true, resumedBytes: 0, ranged: false };
    }
    // The index kept beside an earlier file at this path is not this one's.
    await dropIndex(out);
    // The new box's index, fetched while the box is probed.
    // (Let go of once read: the text of a large index is tens of MB, which the whole download need not hold.)
    let indexText = request.delta ? fetchDeltaIndex(request.delta.chunksUrl, request.localRoot) : undefined;
    indexText?.catch(() => undefined);
    if (request.url.startsWith('file:')) {
      // A file: box may sit on a share: with an older box here, only the chunks it lacks are read from there.
      const { handle, size } = await openLocalBox(request.url, request.localRoot);
      await handle.close();
      checkSize(request, size);
      let index: ChunkIndex | undefined;
      if (request.delta && indexText) {
        const delta = await tryDelta({ ...request, delta: request.delta }, { size, ranged: true, validator: '' }, indexText);
        indexText = undefined;
        if (delta.result) return delta.result;
        index = delta.index;
      }
      const copied = await copyLocal(request);
      if (index) await keepIndex(out, index);
      return copied;
    }

    const info = await probe(request.url, request);
    // A server without a length (-1) is held to the catalog's size as it streams (see below).
    if (info.size !== -1) checkSize(request, info.size);
    // The whole download's resume state first: a delta is tried beside it (its own part file), never instead of it.
    const blockSize = request.blockSize ?? defaultBlockSize(info.size);
    const wanted = { url: request.url, size: info.size, sha256, validator: info.validator, blockSize };
    const files = wholeFiles(out);
    const saved = info.ranged ? await savedState<ResumeState>(files, checkResumeState, wanted, info.size, request.onStartOver) : undefined;
    const resume = saved !== undefined;
    const done = new Set(saved?.done ?? []);
    const blocks = planBlocks(info.size, blockSize);
    // The ranges written inside blocks not done (a range is a hint like the rest: the whole file's hash checks it);
    // one that is not inside a single such block is not ours, and is fetched again.
    const blockOf = (position: number) => blocks[Math.floor(position / blockSize)] as Block;
    let partial: [number, number][] = (saved?.partial ?? [])
      .filter(([start, end]) => !done.has(blockOf(start).index) && end <= blockOf(start).end)
      .map(([start, end]) => [start, end]);
    const todo = info.ranged ? remainingPieces(blocks, done, partial) : [];
    // A block whose every byte was written, but not yet marked done when the run ended, is done.
    const pending = new Set(todo.map((p) => p.index));
    for (const c of blocks) if (info.ranged && !pending.has(c.index)) done.add(c.index);
    const resumedBytes = info.ranged ? info.size - todo.reduce((n, p) => n + p.end - p.start + 1, 0) : 0;

    let index: ChunkIndex | undefined;
    if (request.delta && indexText) {
      const delta = await tryDelta({ ...request, delta: request.delta }, info, indexText, resume ? info.size - resumedBytes : undefined);
      indexText = undefined;
      if (delta.result) return delta.result;
      index = delta.index;
    }
    request.onStart?.({ size: info.size, resumedBytes, ranged: info.ranged });

    const part = files.part;
    const handle = await openPart(files, resume, info.size);
    let progress = resumedBytes;
    let hashing: ReturnType<typeof orderedHasher> | undefined;
    let connections: DownloadResult['connections'];
    try {
      if (info.ranged) {
        await handle.truncate(info.size).catch((e) => asDiskFull(e, dirname(out), info.size));
        // The state is saved at each block done and after every 1% of the file written (1 to 16 MiB), so that a kill
        // loses at most that and what each connection had not yet written; saves in a row are one save.
        const saver = stateSaver(files, (): ResumeState => ({ ...wanted, done: [...done].sort((a, b) => a - b), partial }));
        const save = saver.save;
        const saveEvery = Math.min(16 * MiB, Math.max(MiB, Math.floor(info.size / 100)));
        let unsaved = 0;
        await save();
        // Hash the finished prefix while later blocks still download, so little is left to hash at the end.
        const hasher = orderedHasher(part, blocks, done);
        hashing = hasher;
        const pool = await fetchPieces(request, todo, handle, {
          onBytes: (n) => {
            progress += n;
            request.onProgress?.(progress, info.size);
          },
          onWritten: (_, position, bytes) => {
            addWritten(partial, position, position + bytes - 1);
            unsaved += bytes;
            if (unsaved >= saveEvery) {
              unsaved = 0;
              // A failed save is seen by the next awaited one.
              save().catch(() => undefined);
            }
          },
          onBlockDone: async (index) => {
            done.add(index);
            const c = blocks[index] as Block;
            partial = partial.filter(([start]) => start < c.start || start > c.end);
            hasher.advance();
            await save();
          },
        }).catch(async (error) => {
          // Stopped (a failure, Ctrl-C): what was written is saved for the next run.
          await save().catch(() => undefined);
          throw error;
        });
        connections = pool;
        await saver.last();
        hasher.advance();
      } else {
        // No ranges: one stream, from the start on each try.
        await withRetries(`GET ${request.url}`, request, async () => {
          await handle.truncate(0);
          let position = 0;
          progress = 0;
          await fetchInto(
            request.url,
            undefined,
            async (data) => {
              await handle.write(data, 0, data.length, position).catch((e) => asDiskFull(e, dirname(out), info.size));
              position += data.length;
              progress += data.length;
              request.onProgress?.(progress, info.size);
              return true;
            },
            request,
            info.size === -1 ? (request.size ?? -1) : info.size,
          );
        });
      }
    } finally {
      await handle.close();
    }

    const actual = hashing ? await hashing.digest() : await hashFile(part);
    if (actual !== sha256) {
      await clearParts(files);
      throw new ChecksumError(request.url, sha256, actual);
    }
    await rename(part, out);
    // A delta tried before and given up on may have left its own part: the box is here now.
    await Promise.all([rm(files.state, { force: true }), clearParts(deltaFiles(out))]);
    const finished = await stat(out);
    await writeMarker(out, { sha256, size: finished.size, mtimeMs: finished.mtimeMs });
    if (index) await keepIndex(out, index);
    return { path: out, size: finished.size, cached: false, resumedBytes, ranged: info.ranged, ...(connections ? { connections } : {}) };
  } finally {
    await release();
  }
}

/**
 * The delta path: the part file from older boxes and fetched pieces, verified like a whole download. Without a
 * `result` it could not be used (said through `onFallback`): the caller then downloads the whole file, and keeps
 * the new box's `index` beside it when it could be read, for the next delta.
 */
async function tryDelta(
  request: DownloadRequest & { delta: DeltaRequest },
  info: { size: number; ranged: boolean; validator: string },
  indexText: Promise<string>,
  /** What an interrupted whole download has left to fetch, if there is one. */
  wholeLeft?: number,
): Promise<{ result?: DownloadResult; index?: ChunkIndex }> {
  const { out, sha256 } = request;
  let progress = 0;
  let resumed = 0;
  let index: ChunkIndex | undefined;
  try {
    const text = await indexText;
    // A signed index must be the very one signed; its chunks then check every reused byte.
    const signed = request.delta.signedIndex;
    if (signed && (Buffer.byteLength(text) !== signed.length || createHash('sha256').update(text).digest('hex') !== signed.sha256)) {
      throw new DeltaFallback('the chunk index differs from its signed length and hash', false, true);
    }
    index = parseDeltaIndex(text, request.delta.chunksUrl, { size: info.size, sha256 });
    const got = await deltaInto(
      request,
      info,
      index,
      {
        // The progress starts at the reused and resumed bytes; only the resumed ones are said to be a resume.
        onPlan: (reused, resumedBytes) => {
          resumed = resumedBytes;
          progress = reused + resumedBytes;
          request.onStart?.({ size: info.size, resumedBytes, ranged: true });
        },
        onBytes: (n) => {
          progress += n;
          if (n > 0) request.onProgress?.(progress, info.size);
        },
      },
      wholeLeft,
    );
    // Every chunk taken was verified, so a wrong result is the new box's index lying: it is not kept.
    if (got.sha256 !== sha256) throw new DeltaFallback(`the assembled file's sha256 is ${got.sha256}, not the catalog's`, false, true);
    await rename(deltaFiles(out).part, out);
    // The whole download's part and state, if an earlier run left them, are of this box: no longer needed.
    await Promise.all([clearParts(deltaFiles(out)), clearParts(wholeFiles(out))]);
    const finished = await stat(out);
    await writeMarker(out, { sha256, size: finished.size, mtimeMs: finished.mtimeMs });
    await keepIndex(out, index);
    request.delta.onDone?.({ reusedBytes: got.reusedBytes, fetchedBytes: got.fetchedBytes, size: finished.size });
    return { result: { path: out, size: finished.size, cached: false, resumedBytes: resumed, ranged: true, delta: { reusedBytes: got.reusedBytes, fetchedBytes: got.fetchedBytes } } };
  } catch (error) {
    if (!(error instanceof DeltaFallback)) throw error;
    if (!error.quiet) request.delta.onFallback?.(error.message);
    // Only what the delta made: the whole download's part and state are its own.
    await clearParts(deltaFiles(out));
    return index && !error.falseIndex ? { index } : {};
  }
}

/** The size a server or file says must be the catalog's, when the catalog says one. */
function checkSize(request: DownloadRequest, size: number): void {
  if (request.size !== undefined && size !== request.size) throw new SizeMismatchError(request.url, request.size, size);
}

/** A file: box: copied from the handle it was checked through (hashed as it is read), then verified like any other. */
async function copyLocal(request: DownloadRequest): Promise<DownloadResult> {
  const files = wholeFiles(request.out);
  const part = files.part;
  const { handle: source, size } = await openLocalBox(request.url, request.localRoot);
  try {
    checkSize(request, size);
    request.onStart?.({ size, resumedBytes: 0, ranged: false });
    const target = await openPart(files, false, size);
    const hash = createHash('sha256');
    try {
      const buffer = Buffer.allocUnsafe(4 * MiB);
      for (let position = 0; ; ) {
        const { bytesRead } = await source.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) break;
        hash.update(buffer.subarray(0, bytesRead));
        await target.write(buffer, 0, bytesRead, position).catch((e) => asDiskFull(e, dirname(request.out), size));
        position += bytesRead;
        request.onProgress?.(position, size);
      }
    } finally {
      await target.close();
    }
    const actual = hash.digest('hex');
    if (actual !== request.sha256) {
      await rm(part, { force: true });
      throw new ChecksumError(request.url, request.sha256, actual);
    }
  } finally {
    await source.close();
  }
  await rename(part, request.out);
  await clearParts(deltaFiles(request.out));
  const finished = await stat(request.out);
  await writeMarker(request.out, { sha256: request.sha256, size: finished.size, mtimeMs: finished.mtimeMs });
  return { path: request.out, size: finished.size, cached: false, resumedBytes: 0, ranged: false };
}
