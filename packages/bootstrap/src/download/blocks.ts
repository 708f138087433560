/** Pure planning of a ranged download: blocks (fixed ranges of the file), what is left to fetch, and what is retried. */

/** One byte range, inclusive. */
export interface Block {
  readonly index: number;
  readonly start: number;
  readonly end: number;
}

/** The file is cut into blocks of `blockSize` bytes (the last one shorter). */
export function planBlocks(size: number, blockSize: number): Block[] {
  const blocks: Block[] = [];
  for (let index = 0, start = 0; start < size; index++, start += blockSize) {
    blocks.push({ index, start, end: Math.min(size, start + blockSize) - 1 });
  }
  return blocks;
}

/** The blocks still to fetch. */
export function remaining(blocks: readonly Block[], done: Iterable<number>): Block[] {
  const finished = new Set(done);
  return blocks.filter((c) => !finished.has(c.index));
}

/**
 * What is left of the blocks not `done`, less the `partial` ranges already written: the pieces to fetch, each with
 * its block's index (a block may have several, or none when its pieces were all written).
 */
export function remainingPieces(blocks: readonly Block[], done: Iterable<number>, partial: readonly (readonly [number, number])[] = []): Block[] {
  const finished = new Set(done);
  const written = [...partial].sort((a, b) => a[0] - b[0]);
  const pieces: Block[] = [];
  for (const c of blocks) {
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
