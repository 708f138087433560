/** Pure planning of a ranged download: chunks, what is left to fetch, and the resume state's format. */
import { field, stateFileProblem } from '@airy/cli-kit';
import * as v from 'valibot';

/** One byte range, inclusive. */
export interface Chunk {
  readonly index: number;
  readonly start: number;
  readonly end: number;
}

/** The file is cut into chunks of `chunkSize` bytes (the last one shorter). */
export function planChunks(size: number, chunkSize: number): Chunk[] {
  const chunks: Chunk[] = [];
  for (let index = 0, start = 0; start < size; index++, start += chunkSize) {
    chunks.push({ index, start, end: Math.min(size, start + chunkSize) - 1 });
  }
  return chunks;
}

/** What the resume state file holds: enough to know it belongs to this very file, and the chunks done. */
export interface ResumeState {
  readonly url: string;
  readonly size: number;
  readonly sha256: string;
  /** The server's ETag or Last-Modified: a changed file restarts the download. */
  readonly validator: string;
  readonly chunkSize: number;
  readonly done: readonly number[];
  /**
   * Byte ranges (inclusive) written inside chunks not yet done, as they were flushed: a resume fetches only the
   * rest of those chunks, so a kill costs what was in flight, not every piece that was.
   */
  readonly partial?: readonly (readonly [number, number])[];
}

/** The most entries a resume state's lists may hold, and the most bytes its file may: far above a real one. */
const RESUME_LIST_MAX = 1_000_000;
const RESUME_FILE_MAX = 32 * 2 ** 20;
const byte = field.whole(0);
const range = v.pipe(
  v.tuple([byte, byte], 'must be a [start, end] pair'),
  v.check(([start, end]) => start <= end, 'must start before it ends'),
);

/** The resume state's check, one entry per key of {@link ResumeState}. */
const RESUME_ENTRIES: { readonly [K in keyof Required<ResumeState>]: v.GenericSchema<unknown, ResumeState[K]> } = {
  url: field.text(8192),
  size: byte,
  sha256: field.matching(/^[0-9a-f]{64}$/, 'a SHA-256 of 64 hex digits', 64),
  validator: field.text(1024, 0),
  chunkSize: field.whole(1, 2 ** 40),
  done: field.list(byte, RESUME_LIST_MAX),
  partial: v.optional(field.list(range, RESUME_LIST_MAX)),
};
const RESUME_STATE = v.pipe(
  field.object(RESUME_ENTRIES),
  // Chunks and ranges of this very file: none past its end.
  v.forward(
    v.check((s) => s.done.every((i) => i * s.chunkSize < s.size), 'names a chunk past the end of the file'),
    ['done'],
  ),
  v.forward(
    v.check((s) => (s.partial ?? []).every(([, end]) => end < s.size), 'names a range past the end of the file'),
    ['partial'],
  ),
) as v.GenericSchema<unknown, ResumeState>;

/**
 * A resume state file's text, checked: the state, or what is wrong with it (`key: problem`). Anything else than a
 * sound state (garbage, a truncated write, another shape) makes the download start over: resume state is a hint,
 * never trusted.
 */
export function checkResumeState(text: string): { value: ResumeState } | { problem: string } {
  return stateFileProblem(text, { schema: RESUME_STATE, maxBytes: RESUME_FILE_MAX });
}

/** A resume state file's text, if it is a sound one (see {@link checkResumeState}). */
export function parseResumeState(text: string): ResumeState | undefined {
  const checked = checkResumeState(text);
  return 'value' in checked ? checked.value : undefined;
}

/** Whether a saved state may be resumed for this download. */
export function canResume(saved: ResumeState | undefined, wanted: Omit<ResumeState, 'done'>): saved is ResumeState {
  return (
    saved !== undefined &&
    saved.url === wanted.url &&
    saved.size === wanted.size &&
    saved.sha256 === wanted.sha256 &&
    saved.validator === wanted.validator &&
    saved.chunkSize === wanted.chunkSize
  );
}

/** The chunks still to fetch. */
export function remaining(chunks: readonly Chunk[], done: Iterable<number>): Chunk[] {
  const finished = new Set(done);
  return chunks.filter((c) => !finished.has(c.index));
}

/**
 * What is left of the chunks not `done`, less the `partial` ranges already written: the pieces to fetch, each with
 * its chunk's index (a chunk may have several, or none when its pieces were all written).
 */
export function remainingPieces(chunks: readonly Chunk[], done: Iterable<number>, partial: readonly (readonly [number, number])[] = []): Chunk[] {
  const finished = new Set(done);
  const written = [...partial].sort((a, b) => a[0] - b[0]);
  const pieces: Chunk[] = [];
  for (const c of chunks) {
    if (finished.has(c.index)) continue;
    let at = c.start;
    for (const [start, end] of written) {
      if (end < at || start > c.end) continue;
      if (start > at) pieces.push({ index: c.index, start: at, end: start - 1 });
      at = Math.max(at, end + 1);
    }
    if (at <= c.end) pieces.push({ index: c.index, start: at, end: c.end });
  }
  return pieces;
}

/** Adds `[start, end]` to a list of written ranges, joined with the one it continues (a piece's next flush). */
export function addWritten(ranges: [number, number][], start: number, end: number): void {
  const before = ranges.find((r) => r[1] + 1 === start);
  if (before) before[1] = end;
  else ranges.push([start, end]);
}

/** Whether an HTTP status is worth retrying (server trouble), rather than a final answer. */
export function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** Node's codes for a connection that broke or hung: retried. */
export const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ECONNABORTED', 'EAI_AGAIN']);
