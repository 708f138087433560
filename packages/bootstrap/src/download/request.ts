/** What the downloader is asked, what it answers, and the failures it reports: the public shapes. */
import { formatBytes } from '@airy/cli-kit';
import { errorCode } from '../errors.js';
import type { ParallelismDecision, ParallelismPolicy } from './parallelism.js';

/** What to download. */
export interface DownloadRequest {
  readonly url: string;
  readonly sha256: string;
  /** Where the verified file ends up. */
  readonly out: string;
  /**
   * The box's size as the catalog says: the server's (or the file:'s) must be the same before a byte is written,
   * or the download stops (a server may not make the client write more than the catalog promised).
   */
  readonly size?: number;
  /**
   * A `file:` box (and chunk index) must be inside this folder: a `file:` catalog's own (see `localRootOf`).
   * @default anywhere
   */
  readonly localRoot?: string | undefined;
  /** The option that puts the box in another folder (`--out`, `--cache`), named in the disk-full advice. */
  readonly folderOption?: string;
  /** Pins the number of parallel ranged connections; without it the count adapts (see parallelism.ts). */
  readonly connections?: number;
  /** The adaptive policy, when `connections` is not pinned. @default {@link DEFAULT_PARALLELISM} */
  readonly parallelism?: ParallelismPolicy;
  /** Each change of the connection count, with why (shown with --verbose). */
  readonly onParallelism?: (decision: ParallelismDecision) => void;
  /** @default from the size: 1/32 of it, between 8 and 64 MiB (see {@link defaultBlockSize}) */
  readonly blockSize?: number;
  /** Tries per request before giving up. @default 6 */
  readonly attempts?: number;
  /** A request that sends no byte for this long is retried. @default 30 s */
  readonly idleTimeoutMs?: number;
  /** A request whose response headers take longer than this is retried. @default 30 s */
  readonly headersTimeoutMs?: number;
  /**
   * A connection slower than `bytesPerSecond` on average over `seconds` is cut and retried (curl's --speed-limit and
   * --speed-time): a server that trickles bytes cannot hold a download for hours. @default 1024 B/s over 30 s
   */
  readonly lowSpeed?: { readonly bytesPerSecond: number; readonly seconds: number };
  readonly onProgress?: (done: number, total: number) => void;
  readonly onStart?: (info: { size: number; resumedBytes: number; ranged: boolean }) => void;
  /** The resume state beside `out` was not sound (`file: key: problem`): the download starts over. */
  readonly onStartOver?: (reason: string) => void;
  readonly signal?: AbortSignal;
  /**
   * Fetch only what changed: the new box's chunk index (the catalog entry's `chunks_url`) and older box files of
   * the same name to take the other chunks from. Any doubt (no index, a damaged one, nothing to reuse, a wrong
   * result) falls back to the whole download; the file is verified against `sha256` either way.
   */
  readonly delta?: DeltaRequest;
}

/** What a delta download needs, and what it reports. */
export interface DeltaRequest {
  readonly chunksUrl: string;
  /** The index's signed length and SHA-256 (a verified catalog): an index that differs is not used. */
  readonly signedIndex?: { readonly length: number; readonly sha256: string };
  /** Older box files (a cache, the folder of --out), read only. */
  readonly seeds: readonly string[];
  /** The plan, once made: bytes reused from the seeds and bytes to fetch. */
  readonly onPlan?: (plan: { reusedBytes: number; fetchBytes: number; size: number; seeds: number }) => void;
  /** Why the whole file is downloaded instead. */
  readonly onFallback?: (reason: string) => void;
  /** The delta worked: the bytes taken from the seeds and the bytes fetched, of the file's size. */
  readonly onDone?: (done: { reusedBytes: number; fetchedBytes: number; size: number }) => void;
}

/** What happened. */
export interface DownloadResult {
  readonly path: string;
  readonly size: number;
  /** Nothing was fetched: the verified file was already there. */
  readonly cached: boolean;
  /** Bytes that came from an earlier, interrupted run. */
  readonly resumedBytes: number;
  readonly ranged: boolean;
  /** Connections: the most that ran at once, the final target, and how many tail ranges were handed over. */
  readonly connections?: { readonly peak: number; readonly final: number; readonly handedOver: number };
  /** With a delta: the bytes taken from older boxes and the bytes fetched. */
  readonly delta?: { readonly reusedBytes: number; readonly fetchedBytes: number };
}

/** The output path is not a plain file: nothing was downloaded. */
export class OutputPathError extends Error {
  constructor(
    readonly path: string,
    readonly kind: string,
  ) {
    super(`${path} is ${kind}: name a plain file (or a path that does not exist yet) for the box`);
    this.name = 'OutputPathError';
  }
}

/** The file's SHA-256 is not the catalog's; the file was deleted and nothing was marked verified. */
export class ChecksumError extends Error {
  constructor(
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${url} downloaded with sha256 ${actual}, but the catalog says ${expected}: the file was deleted, nothing was used; run again, and if it repeats the published box is corrupt`);
    this.name = 'ChecksumError';
  }
}

/** The disk filled up. */
export class DiskFullError extends Error {
  constructor(
    readonly dir: string,
    readonly needed: number,
    option?: string,
  ) {
    super(`no space left in ${dir}${needed ? ` (the box needs ${formatBytes(needed)})` : ''}: free some disk, or choose another folder${option ? ` with ${option}` : ''}`);
    this.name = 'DiskFullError';
  }
}

/** A final failure after retries. */
export class DownloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadError';
  }
}

/** The box's size is not what the catalog says: nothing was written (a {@link DownloadError}: the download failed). */
export class SizeMismatchError extends DownloadError {
  constructor(
    readonly url: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`${url} is ${actual} bytes, but the catalog says ${expected}: nothing was written; the catalog or the box server is wrong, tell whoever publishes the box`);
    this.name = 'SizeMismatchError';
  }
}


export function asDiskFull(error: unknown, dir: string, size: number): never {
  if (errorCode(error) === 'ENOSPC') throw new DiskFullError(dir, size);
  throw error;
}
