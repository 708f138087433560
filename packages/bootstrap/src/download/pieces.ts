/**
 * The parallel part: ranged pieces over a number of connections that follows the link, coalesced positioned
 * writes, and the hand-over of a slow connection's tail.
 */
import type { FileHandle } from 'node:fs/promises';
import { DEFAULT_PARALLELISM, ParallelismController } from './parallelism.js';
import type { Block } from './blocks.js';
import { MiB } from './files.js';
import { fetchInto, withRetries } from './http.js';
import type { DownloadRequest } from './request.js';

/**
 * Bytes a connection gathers before one positioned write. Bigger means fewer syscalls, but each connection's
 * pending socket buffers count toward RSS; 512 KiB measured as fast as 1 MiB with a fifth less peak RSS.
 */
export const COALESCE = 512 * 2 ** 10;

/**
 * Buffers a block's pieces and writes them {@link COALESCE} bytes at a time at their offsets: far fewer syscalls.
 * `onWritten` hears of each write once it is in the file (where, and how many bytes).
 */
export function coalescingWriter(handle: FileHandle, start: number, onWritten: (position: number, bytes: number) => void) {
  let position = start;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let total = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const buffers = pending;
    const bytes = pendingBytes;
    pending = [];
    pendingBytes = 0;
    await handle.writev(buffers, position);
    onWritten(position, bytes);
    position += bytes;
    total += bytes;
  };
  return {
    write: async (data: Uint8Array) => {
      pending.push(data);
      pendingBytes += data.length;
      if (pendingBytes >= COALESCE) await flush();
    },
    flush,
    /** Bytes written (and reported) so far. */
    written: () => total,
  };
}


/**
 * A range of one block fetched by one connection; its `end` moves down when its tail is handed over, its `start` up
 * past what a failed try wrote (a retry fetches only the rest).
 */
interface Piece {
  readonly index: number;
  start: number;
  end: number;
  /** Bytes of this piece received on the current try. */
  received: number;
  startedAt: number;
}

/** The least a handed-over tail is worth: below this, a new connection costs more than it saves. */
const MIN_HANDOVER = MiB;

/**
 * Fetches `todo` into `handle` over parallel ranged connections. Their number follows {@link ParallelismController}
 * (or is pinned). When no whole block is left, an idle connection takes over the second half of the range that
 * would take longest to finish (the slowest connection's, usually), so the last percent does not take the longest.
 * A block is reported done once all its pieces are (`todo` may hold several pieces of one block, by its index).
 */
export async function fetchPieces(
  request: DownloadRequest,
  todo: readonly Block[],
  handle: FileHandle,
  hooks: {
    onBytes: (n: number) => void;
    onBlockDone: (index: number) => Promise<void>;
    /** Bytes of a block now in the file: where, and how many (recorded so that a resume keeps them). */
    onWritten?: (index: number, position: number, bytes: number) => void;
  },
): Promise<{ peak: number; final: number; handedOver: number }> {
  const queue: Piece[] = todo.map((c) => ({ index: c.index, start: c.start, end: c.end, received: 0, startedAt: 0 }));
  const outstanding = new Map<number, number>();
  for (const c of todo) outstanding.set(c.index, (outstanding.get(c.index) ?? 0) + 1);
  const active = new Set<Piece>();
  const controller = new ParallelismController(request.parallelism ?? DEFAULT_PARALLELISM, request.connections);
  request.onParallelism?.({
    target: controller.target,
    reason: request.connections ? `${request.connections} connections, pinned by --connections` : `starting with ${controller.target} connections`,
  });
  let running = 0;
  let peak = 0;
  let handedOver = 0;
  // Bytes as they arrive (before the coalesced writes): what the connection count is judged by.
  let arrived = 0;
  let failure: unknown;

  // Speeds of finished pieces: with the running ones, they say what a normal connection does.
  const finishedSpeeds: number[] = [];
  const speedOf = (p: Piece, now: number) => p.received / Math.max(0.05, (now - p.startedAt) / 1000);
  const handOver = (): Piece | undefined => {
    let slowest: Piece | undefined;
    let longest = 0;
    const now = performance.now();
    for (const p of active) {
      const left = p.end - (p.start + p.received) + 1;
      if (left < 2 * MIN_HANDOVER) continue;
      const eta = left / Math.max(1, speedOf(p, now));
      if (eta > longest) {
        slowest = p;
        longest = eta;
      }
    }
    if (!slowest) return undefined;
    const at = slowest.start + slowest.received;
    const left = slowest.end - at + 1;
    // A connection far below the others (under a quarter of the median, after a second) gives up all it has left;
    // otherwise the tail is shared, half and half.
    const speeds = [...finishedSpeeds, ...[...active].filter((p) => p !== slowest && now - p.startedAt > 1000).map((p) => speedOf(p, now))].sort(
      (a, b) => a - b,
    );
    const median = speeds[Math.floor(speeds.length / 2)];
    const replace = median !== undefined && now - slowest.startedAt > 1000 && speedOf(slowest, now) < median / 4;
    const from = replace ? at : at + Math.floor(left / 2);
    const piece: Piece = { index: slowest.index, start: from, end: slowest.end, received: 0, startedAt: 0 };
    slowest.end = from - 1;
    outstanding.set(slowest.index, (outstanding.get(slowest.index) ?? 1) + 1);
    handedOver++;
    return piece;
  };

  const runPiece = async (piece: Piece) => {
    await withRetries(`bytes ${piece.start}-${piece.end} of ${request.url}`, request, async () => {
      if (piece.end < piece.start) return; // all of it was handed over before it started
      piece.received = 0;
      piece.startedAt = performance.now();
      const writer = coalescingWriter(handle, piece.start, (position, bytes) => {
        hooks.onBytes(bytes);
        hooks.onWritten?.(piece.index, position, bytes);
      });
      try {
        await fetchInto(
          request.url,
          { index: piece.index, start: piece.start, end: piece.end },
          async (data) => {
            const room = piece.end - (piece.start + piece.received) + 1;
            if (room <= 0) return false;
            const slice = data.length > room ? data.subarray(0, room) : data;
            piece.received += slice.length;
            arrived += slice.length;
            await writer.write(slice);
            return piece.start + piece.received <= piece.end;
          },
          request,
        );
        await writer.flush();
      } catch (error) {
        // What was written is the file's bytes at their offsets (the whole file's hash checks them at the end):
        // kept, and the next try fetches only the rest. What was not yet written came from a failing answer: dropped.
        piece.start += writer.written();
        piece.received = 0;
        throw error;
      }
    });
    if (piece.received > 0) finishedSpeeds.push(speedOf(piece, performance.now()));
    const left = (outstanding.get(piece.index) ?? 1) - 1;
    outstanding.set(piece.index, left);
    if (left === 0) await hooks.onBlockDone(piece.index);
  };

  const worker = async (first: Piece) => {
    running++;
    peak = Math.max(peak, running);
    try {
      // A connection above the target finishes its piece and leaves (shedding).
      for (let piece: Piece | undefined = first; piece; ) {
        active.add(piece);
        try {
          await runPiece(piece);
        } finally {
          active.delete(piece);
        }
        if (failure !== undefined || running > controller.target) return;
        piece = queue.shift() ?? handOver();
      }
    } catch (error) {
      failure ??= error;
    } finally {
      running--;
    }
  };

  const workers: Promise<void>[] = [];
  // New connections up to the target, each with a piece of its own (a whole block, else a handed-over tail).
  const spawn = () => {
    while (failure === undefined && running < controller.target) {
      const piece = queue.shift() ?? handOver();
      if (!piece) return;
      workers.push(worker(piece));
    }
  };
  const timer = setInterval(() => {
    const decision = controller.sample(performance.now(), arrived);
    if (decision) {
      request.onParallelism?.(decision);
      spawn();
    }
  }, 250);
  try {
    controller.sample(performance.now(), arrived);
    spawn();
    while (workers.length > 0) await Promise.all(workers.splice(0));
  } finally {
    clearInterval(timer);
  }
  if (failure !== undefined) throw failure;
  return { peak, final: controller.target, handedOver };
}

