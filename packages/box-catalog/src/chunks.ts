/**
 * The chunk index of a published box: the box file cut into content-defined chunks, each with its length and
 * SHA-256, so that a downloader holding an older box fetches only the chunks it does not have. One home for the
 * chunking (box-builder writes the index, bootstrap cuts its old box the same way), the format and the plan.
 *
 * Chunking: a gear hash (32 bits, one table of 256 values derived from SHA-256, so it never changes) over the
 * bytes, a cut where its top bits are zero, normalised as FastCDC does (harder before the average size, easier
 * after), within a minimum and a maximum. A cut depends only on the 32 bytes before it, so an insertion moves the
 * cuts around it and no others. No library here fits: the one on the registry (rabin-wasm) brings 18 packages, which
 * bootstrap's laptop install cannot carry.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * The chunking parameters; part of the format (an index made otherwise is not ours to match). casync's sizes: small
 * enough that a change costs little more than itself (measured in bench:delta: with 1 MiB chunks a 5% change cost
 * 11% of the box, zsync 5.5%), large enough that the index stays near 0.1% of the box.
 */
export const CHUNKING = { algorithm: 'gear32/v1', min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024 } as const;

/** The `format` of an index document. */
export const CHUNK_INDEX_FORMAT = 'airy-chunks/1';

/** The index's object name beside its box: `airy-core-1.2.0-libvirt.box` → `airy-core-1.2.0-libvirt.box.chunks.json`. */
export function chunkIndexName(boxFile: string): string {
  return `${boxFile}.chunks.json`;
}

const GEAR = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) table[i] = createHash('sha256').update(`airy-gear/v1:${i}`).digest().readUInt32BE(0);
  return table;
})();

/** A mask of `bits` ones from the top of 32 bits. */
const topBits = (bits: number) => (0xffffffff << (32 - bits)) >>> 0;
/** The gear hash forgets a byte after 32 shifts: hashing may start this far before the minimum. */
const WINDOW = 32;

/** Sizes of the cuts: `avg` a power of two, `min` at least {@link WINDOW}. */
export interface ChunkSizes {
  readonly min: number;
  readonly avg: number;
  readonly max: number;
}

/**
 * Cuts a byte stream into chunks: `push` the bytes as they come (any slicing gives the same cuts), `end` at the end.
 * `push` returns where in `data` each chunk it completed ends (exclusive offsets), so a caller slices `data` there. The index's sizes ({@link CHUNKING}) by default; other
 * sizes serve other cuts (where a box's compressor resynchronises).
 */
export class Chunker {
  private hash = 0;
  private length = 0;
  private readonly maskBefore: number;
  private readonly maskAfter: number;

  constructor(private readonly sizes: ChunkSizes = CHUNKING) {
    const bits = Math.log2(sizes.avg);
    if (!Number.isInteger(bits) || sizes.min < WINDOW || sizes.min > sizes.avg || sizes.avg > sizes.max) {
      throw new RangeError(`chunk sizes ${JSON.stringify(sizes)}: avg a power of two, ${WINDOW} <= min <= avg <= max`);
    }
    this.maskBefore = topBits(bits + 2);
    this.maskAfter = topBits(bits - 2);
  }

  push(data: Uint8Array): number[] {
    const { min, avg, max } = this.sizes;
    const cuts: number[] = [];
    let i = 0;
    while (i < data.length) {
      // Below the minimum only the last WINDOW bytes can matter to the hash: skip to them.
      const skip = min - WINDOW - this.length;
      if (skip > 0) {
        const n = Math.min(skip, data.length - i);
        this.length += n;
        i += n;
        continue;
      }
      let h = this.hash;
      let length = this.length;
      let cut = false;
      for (; i < data.length; i++) {
        h = ((h << 1) + (GEAR[data[i] as number] as number)) >>> 0;
        length++;
        if (length >= min && ((h & (length < avg ? this.maskBefore : this.maskAfter)) === 0 || length >= max)) {
          i++;
          cut = true;
          break;
        }
      }
      if (cut) {
        cuts.push(i);
        this.hash = 0;
        this.length = 0;
      } else {
        this.hash = h;
        this.length = length;
      }
    }
    return cuts;
  }

  /** The last chunk's length, if any bytes are left. */
  end(): number | undefined {
    const rest = this.length;
    this.hash = 0;
    this.length = 0;
    return rest > 0 ? rest : undefined;
  }
}

/** One chunk: where it starts, how long it is, and its SHA-256 (hex). */
export interface Chunk {
  readonly offset: number;
  readonly length: number;
  readonly sha256: string;
}

/** A chunk index: the whole file's size and SHA-256, and its chunks in order. */
export interface ChunkIndex {
  readonly size: number;
  readonly sha256: string;
  readonly chunks: readonly Chunk[];
}

/** Cuts and hashes a file, streaming (memory stays small whatever its size); the whole file's SHA-256 too. */
export async function indexFile(path: string, options: { signal?: AbortSignal } = {}): Promise<ChunkIndex> {
  const chunker = new Chunker();
  const whole = createHash('sha256');
  const chunks: Chunk[] = [];
  let part = createHash('sha256');
  /** Where the current chunk starts, and where the current buffer does, in the file. */
  let start = 0;
  let read = 0;
  const close = (end: number) => {
    chunks.push({ offset: start, length: end - start, sha256: part.digest('hex') });
    start = end;
    part = createHash('sha256');
  };
  for await (const buffer of createReadStream(path, { highWaterMark: 1024 * 1024, signal: options.signal })) {
    const data = buffer as Buffer;
    whole.update(data);
    let at = 0;
    for (const end of chunker.push(data)) {
      part.update(data.subarray(at, end));
      close(read + end);
      at = end;
    }
    part.update(data.subarray(at));
    read += data.length;
  }
  if (chunker.end() !== undefined) close(read);
  return { size: read, sha256: whole.digest('hex'), chunks };
}

/** The index as published: compact (each chunk as `[sha256, length]`), its offsets implied by the order. */
export function stringifyChunkIndex(index: ChunkIndex): string {
  const chunking = `${CHUNKING.algorithm} min=${CHUNKING.min} avg=${CHUNKING.avg} max=${CHUNKING.max}`;
  return `${JSON.stringify({ format: CHUNK_INDEX_FORMAT, chunking, size: index.size, sha256: index.sha256, chunks: index.chunks.map((c) => [c.sha256, c.length]) })}\n`;
}

/** A chunk index that cannot be used: missing, damaged, made otherwise, or not of the box it is said to be of. */
export class ChunkIndexError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
    this.name = 'ChunkIndexError';
  }
}

/** The most chunks an index may list: a box of the largest size the format allows, cut at the minimum. */
const MAX_CHUNKS = 1_000_000;
const HEX = /^[0-9a-f]{64}$/;

/**
 * Reads an index as untrusted input: its format and chunking must be ours, every chunk a valid length and hash,
 * the lengths must add up to the size, and size and SHA-256 must be the box's as the catalog says (`expected`). The
 * index is never trusted for the result: the downloader verifies the whole file against the catalog anyway.
 */
export function parseChunkIndex(text: string, where: string, expected: { size?: number; sha256: string }): ChunkIndex {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the text, which need not be an index at all.
    throw new ChunkIndexError(where, 'not valid JSON');
  }
  const bad = (message: string): never => {
    throw new ChunkIndexError(where, message);
  };
  if (typeof data !== 'object' || data === null || Array.isArray(data)) bad('is not a chunk index');
  const d = data as Record<string, unknown>;
  if (d.format !== CHUNK_INDEX_FORMAT) bad(`format is ${JSON.stringify(d.format)}, not ${CHUNK_INDEX_FORMAT}`);
  const chunking = `${CHUNKING.algorithm} min=${CHUNKING.min} avg=${CHUNKING.avg} max=${CHUNKING.max}`;
  if (d.chunking !== chunking) bad(`was cut otherwise (${JSON.stringify(d.chunking)})`);
  if (!Number.isSafeInteger(d.size) || (d.size as number) < 0) bad('size must be a byte count');
  if (typeof d.sha256 !== 'string' || !HEX.test(d.sha256)) bad('sha256 must be 64 hex digits');
  if (d.sha256 !== expected.sha256) bad('is of another box (its sha256 is not the catalog entry’s)');
  if (expected.size !== undefined && d.size !== expected.size) bad(`is of another box (size ${d.size}, the catalog says ${expected.size})`);
  if (!Array.isArray(d.chunks) || d.chunks.length > MAX_CHUNKS) bad(`chunks must be a list of at most ${MAX_CHUNKS}`);
  const chunks: Chunk[] = [];
  let offset = 0;
  for (const [i, entry] of (d.chunks as unknown[]).entries()) {
    if (!Array.isArray(entry) || entry.length !== 2) bad(`chunks[${i}] must be [sha256, length]`);
    const [sha256, length] = entry as [unknown, unknown];
    if (typeof sha256 !== 'string' || !HEX.test(sha256)) bad(`chunks[${i}]: the hash must be 64 hex digits`);
    if (!Number.isSafeInteger(length) || (length as number) < 1 || (length as number) > CHUNKING.max) bad(`chunks[${i}]: the length must be 1 to ${CHUNKING.max}`);
    chunks.push({ offset, length: length as number, sha256: sha256 as string });
    offset += length as number;
  }
  if (offset !== d.size) bad(`the chunks add up to ${offset} bytes, not the size ${d.size}`);
  return { size: d.size as number, sha256: d.sha256 as string, chunks };
}

/** Where a chunk's bytes can be copied from: a local file and an offset in it. */
export interface LocalChunk {
  readonly file: string;
  readonly offset: number;
}

/** The delta: what to copy from local files and which ranges (inclusive) to fetch, with their byte counts. */
export interface DeltaPlan {
  readonly copy: readonly { readonly file: string; readonly from: number; readonly to: number; readonly length: number }[];
  readonly fetch: readonly { readonly start: number; readonly end: number }[];
  readonly reusedBytes: number;
  readonly fetchBytes: number;
}

/**
 * Plans the new file from the chunks already here (`local`: SHA-256 → where it is), pure: every chunk of `index` is
 * copied when a local chunk has its hash and length, else fetched; neighbouring fetches and copies are merged so the
 * downloader makes few, large requests.
 */
export function planDelta(index: ChunkIndex, local: ReadonlyMap<string, LocalChunk & { length: number }>): DeltaPlan {
  const copy: { file: string; from: number; to: number; length: number }[] = [];
  const fetch: { start: number; end: number }[] = [];
  let reusedBytes = 0;
  for (const c of index.chunks) {
    const have = local.get(c.sha256);
    if (have && have.length === c.length) {
      reusedBytes += c.length;
      const last = copy.at(-1);
      if (last && last.file === have.file && last.from + last.length === have.offset && last.to + last.length === c.offset) last.length += c.length;
      else copy.push({ file: have.file, from: have.offset, to: c.offset, length: c.length });
      continue;
    }
    const last = fetch.at(-1);
    if (last && last.end + 1 === c.offset) last.end = c.offset + c.length - 1;
    else fetch.push({ start: c.offset, end: c.offset + c.length - 1 });
  }
  return { copy, fetch, reusedBytes, fetchBytes: index.size - reusedBytes };
}

/** The chunks of local files by hash (the first place each is found), for {@link planDelta}. */
export function localChunks(files: readonly { readonly file: string; readonly index: ChunkIndex }[]): Map<string, LocalChunk & { length: number }> {
  const map = new Map<string, LocalChunk & { length: number }>();
  for (const { file, index } of files) for (const c of index.chunks) if (!map.has(c.sha256)) map.set(c.sha256, { file, offset: c.offset, length: c.length });
  return map;
}
