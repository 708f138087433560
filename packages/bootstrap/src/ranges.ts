/** Pure planning of a ranged download: chunks, what is left to fetch, and the resume state's format. */

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
}

/**
 * A resume state file's text, if it is one: anything else (garbage, a truncated write, another shape) is `undefined`,
 * and the download starts over. Resume state is a hint, never trusted.
 */
export function parseResumeState(text: string): ResumeState | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null) return undefined;
  const s = data as Record<string, unknown>;
  const whole = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
  const ok =
    typeof s.url === 'string' &&
    whole(s.size) &&
    typeof s.sha256 === 'string' &&
    typeof s.validator === 'string' &&
    whole(s.chunkSize) &&
    (s.chunkSize as number) > 0 &&
    Array.isArray(s.done) &&
    s.done.every(whole);
  return ok ? (s as unknown as ResumeState) : undefined;
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

/** Whether an HTTP status is worth retrying (server trouble), rather than a final answer. */
export function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** Node's codes for a connection that broke or hung: retried. */
export const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ECONNABORTED', 'EAI_AGAIN']);
