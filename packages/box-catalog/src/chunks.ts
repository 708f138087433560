/**
 * The chunk index of a published box: the box file cut into chunks, each with its length and a hash, so that a
 * downloader holding an older box fetches only the chunks it does not have. One home for the cutting (box-builder's
 * publish writes the index, bootstrap cuts an older box the same way), the format and the plan.
 *
 * Cutting: after every sync-flush marker of the gzip stream (the empty stored block a sync flush ends with, the bytes
 * `00 00 ff ff`), at most {@link CHUNKING}'s `max` apart. The box's compressor (box-builder's box-file.ts) flushes
 * at content-defined points of its input, so the chunks are exactly its deflate segments: a change in the input
 * changes the segments it touches and no others, where cutting the compressed bytes anew (as a gear hash did) cost a
 * chunk more on each side (bench:delta). The marker is found by its bytes alone, so any older box file is cut the
 * same way without decompressing it; a marker that happens to occur inside compressed data is one more cut, made the
 * same in both files. A file without markers (a box compressed otherwise) is cut every `max` bytes: correct, and it
 * shares little.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** The cutting; part of the format (an index made otherwise is not ours to match). */
export const CHUNKING = { algorithm: 'sync-flush/v1', max: 1024 * 1024 } as const;
const CHUNKING_TEXT = `${CHUNKING.algorithm} max=${CHUNKING.max}`;

/** The `format` of an index document. */
export const CHUNK_INDEX_FORMAT = 'airy-chunks/2';

/**
 * A chunk's hash: the first 128 bits of its SHA-256 (16 bytes in the index, a third of its size). Enough: it only
 * says where a chunk may be found; the whole file's SHA-256 is what the result is verified by.
 */
const HASH_BYTES = 16;

/** The index's object name beside its box: `airy-core-1.2.0-libvirt.box` → `airy-core-1.2.0-libvirt.box.chunks.json`. */
export function chunkIndexName(boxFile: string): string {
  return `${boxFile}.chunks.json`;
}

/** What a sync flush ends with, byte-aligned: an empty stored block's LEN and NLEN. */
const MARKER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * Cuts a byte stream after each sync-flush marker: `push` the bytes as they come (any slicing gives the same cuts),
 * `end` at the end. `push` returns where in `data` each chunk it completed ends (exclusive offsets).
 */
export class Cutter {
  /** The last bytes of the previous push, where a marker may have begun. */
  private tail: Buffer = Buffer.alloc(0);
  /** Bytes since the last cut. */
  private length = 0;

  push(data: Buffer): number[] {
    const cuts: number[] = [];
    // Offsets are of `data`; `last` is where the current chunk starts (negative: in an earlier push).
    let last = -this.length;
    /** Cuts at the maximum as often as it falls before `end` (where a marker ends), then at the marker. */
    const reach = (end: number) => {
      while (last + CHUNKING.max < Math.min(end, data.length + 1)) {
        last += CHUNKING.max;
        cuts.push(last);
      }
      if (end <= data.length && end > last) {
        cuts.push(end);
        last = end;
      }
    };
    // A marker begun in the previous push ends in this one's first bytes: looked for where the two meet, so that
    // `data` itself is searched where it lies, not copied behind the tail.
    if (this.tail.length > 0) {
      const found = Buffer.concat([this.tail, data.subarray(0, MARKER.length - 1)]).indexOf(MARKER);
      if (found >= 0) reach(found + MARKER.length - this.tail.length);
    }
    for (let found = data.indexOf(MARKER); found >= 0; found = data.indexOf(MARKER, found + 1)) reach(found + MARKER.length);
    reach(Number.POSITIVE_INFINITY);
    this.length = data.length - last;
    const keep = MARKER.length - 1;
    this.tail = Buffer.from(data.length >= keep ? data.subarray(data.length - keep) : Buffer.concat([this.tail, data]).subarray(-keep));
    return cuts;
  }

  /** The last chunk's length, if any bytes are left. */
  end(): number | undefined {
    const rest = this.length;
    this.tail = Buffer.alloc(0);
    this.length = 0;
    return rest > 0 ? rest : undefined;
  }
}

/** One chunk: where it starts, how long it is, and its hash (hex). */
export interface Chunk {
  readonly offset: number;
  readonly length: number;
  readonly hash: string;
}

/**
 * A chunk index: the whole file's size and SHA-256, and its chunks in order, held compactly (a million chunks are
 * 20 MB, where as objects they were over 140 MB): their lengths, and their hashes of {@link HASH_BYTES} each, one
 * after the other. Offsets follow from the lengths.
 */
export interface ChunkIndex {
  readonly size: number;
  readonly sha256: string;
  readonly lengths: Uint32Array;
  readonly hashes: Buffer;
}

/** The chunks of an index as objects (for a few of them, messages and tests: a million cost 140 MB). */
export function chunkList(index: ChunkIndex): Chunk[] {
  const chunks: Chunk[] = [];
  let offset = 0;
  for (const [i, length] of index.lengths.entries()) {
    chunks.push({ offset, length, hash: index.hashes.toString('hex', i * HASH_BYTES, (i + 1) * HASH_BYTES) });
    offset += length;
  }
  return chunks;
}

/** An index of chunks given as objects (offsets implied by the order). */
export function chunkIndexOf(size: number, sha256: string, chunks: readonly Pick<Chunk, 'length' | 'hash'>[]): ChunkIndex {
  return {
    size,
    sha256,
    lengths: Uint32Array.from(chunks, (c) => c.length),
    hashes: Buffer.concat(chunks.map((c) => Buffer.from(c.hash, 'hex').subarray(0, HASH_BYTES))),
  };
}

/** A SHA-256 as the index keeps it: its first {@link HASH_BYTES}. */
const truncated = (hash: Hash): Buffer => hash.digest().subarray(0, HASH_BYTES);

/** A chunk's hash, as the index keeps it (hex). */
export const chunkHash = (data: Uint8Array): string => truncated(createHash('sha256').update(data)).toString('hex');

/** Whether `data` is chunk `i` of `index`: its length and its hash. */
export function chunkMatches(index: ChunkIndex, i: number, data: Uint8Array): boolean {
  if (data.length !== index.lengths[i]) return false;
  return truncated(createHash('sha256').update(data)).compare(index.hashes, i * HASH_BYTES, (i + 1) * HASH_BYTES) === 0;
}

/** Collects hashes of {@link HASH_BYTES} into one buffer, growing it by doubling. */
class HashList {
  private buffer = Buffer.alloc(1024 * HASH_BYTES);
  count = 0;
  push(hash: Buffer): void {
    if ((this.count + 1) * HASH_BYTES > this.buffer.length) {
      const grown = Buffer.alloc(this.buffer.length * 2);
      this.buffer.copy(grown);
      this.buffer = grown;
    }
    hash.copy(this.buffer, this.count * HASH_BYTES);
    this.count++;
  }
  done(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.count * HASH_BYTES));
  }
}

/** Cuts and hashes a file, streaming (memory stays small whatever its size); the whole file's SHA-256 too. */
export async function indexFile(path: string, options: { signal?: AbortSignal } = {}): Promise<ChunkIndex> {
  const cutter = new Cutter();
  const whole = createHash('sha256');
  const lengths: number[] = [];
  const hashes = new HashList();
  let part = createHash('sha256');
  /** Where the current chunk starts, and where the current buffer does, in the file. */
  let start = 0;
  let read = 0;
  const close = (end: number) => {
    lengths.push(end - start);
    hashes.push(truncated(part));
    start = end;
    part = createHash('sha256');
  };
  for await (const buffer of createReadStream(path, { highWaterMark: 1024 * 1024, signal: options.signal })) {
    const data = buffer as Buffer;
    whole.update(data);
    let at = 0;
    for (const end of cutter.push(data)) {
      part.update(data.subarray(at, end));
      close(read + end);
      at = end;
    }
    part.update(data.subarray(at));
    read += data.length;
  }
  if (cutter.end() !== undefined) close(read);
  return { size: read, sha256: whole.digest('hex'), lengths: Uint32Array.from(lengths), hashes: hashes.done() };
}

/** The index as published: the chunks' lengths in order (offsets implied), their hashes as one base64 string. */
export function stringifyChunkIndex(index: ChunkIndex): string {
  const hashes = index.hashes.toString('base64');
  const lengths = Array.from(index.lengths);
  return `${JSON.stringify({ format: CHUNK_INDEX_FORMAT, chunking: CHUNKING_TEXT, size: index.size, sha256: index.sha256, lengths, hashes })}\n`;
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

/**
 * The most chunks an index may list: a box of hundreds of GB at the compressor's segments (tens of KiB each); such
 * an index is under 32 MB.
 */
export const MAX_CHUNKS = 1_000_000;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Reads an index as untrusted input: its format and cutting must be ours, every chunk a valid length and hash, the
 * lengths must add up to the size, and size and SHA-256 must be the box's as the catalog says (`expected`; an older
 * box here is known by its size alone, and each chunk taken from it is verified as it is read). The index is never
 * trusted for the result: the downloader verifies the whole file against the catalog anyway.
 */
export function parseChunkIndex(text: string, where: string, expected: { size?: number; sha256?: string }): ChunkIndex {
  // An index is an object holding one flat list: anything nested deeper is refused before the parser builds it (a
  // nesting bomb of tens of MB costs the parser seconds and gigabytes).
  if (!nestedAtMost(text, 2)) throw new ChunkIndexError(where, 'is nested deeper than a chunk index is');
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
  if (d.chunking !== CHUNKING_TEXT) bad(`was cut otherwise (${JSON.stringify(d.chunking)})`);
  if (!Number.isSafeInteger(d.size) || (d.size as number) < 0) bad('size must be a byte count');
  if (typeof d.sha256 !== 'string' || !SHA256_HEX.test(d.sha256)) bad('sha256 must be 64 hex digits');
  if (expected.sha256 !== undefined && d.sha256 !== expected.sha256) bad('is of another box (its sha256 is not the catalog entry’s)');
  if (expected.size !== undefined && d.size !== expected.size) bad(`is of another box (size ${d.size}, expected ${expected.size})`);
  if (!Array.isArray(d.lengths) || d.lengths.length > MAX_CHUNKS) bad(`lengths must be a list of at most ${MAX_CHUNKS}`);
  const lengths = d.lengths as unknown[];
  if (typeof d.hashes !== 'string' || !BASE64.test(d.hashes) || d.hashes.length !== 4 * Math.ceil((lengths.length * HASH_BYTES) / 3)) {
    bad(`hashes must be base64 of ${HASH_BYTES} bytes for each of the ${lengths.length} chunks`);
  }
  let offset = 0;
  for (const [i, length] of lengths.entries()) {
    if (!Number.isSafeInteger(length) || (length as number) < 1 || (length as number) > CHUNKING.max) bad(`lengths[${i}] must be 1 to ${CHUNKING.max}`);
    offset += length as number;
  }
  if (offset !== d.size) bad(`the chunks add up to ${offset} bytes, not the size ${d.size}`);
  return { size: d.size as number, sha256: d.sha256 as string, lengths: Uint32Array.from(lengths as number[]), hashes: Buffer.from(d.hashes as string, 'base64') };
}

/** Whether the brackets and braces of JSON `text` nest at most `depth` deep (those inside strings aside): one pass. */
export function nestedAtMost(text: string, depth: number): boolean {
  let level = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++level > depth) return false;
    } else if (c === 0x5d || c === 0x7d) level--;
  }
  return true;
}

/** Where a chunk's bytes can be copied from: a local file and an offset in it. */
export interface LocalChunk {
  readonly file: string;
  readonly offset: number;
}

/**
 * The delta: what to copy from local files and which ranges (inclusive) to fetch, with their byte counts. A copied
 * run holds the new index's chunks `first` to `first + count - 1`, so that the copy verifies each one it takes.
 */
export interface DeltaPlan {
  readonly copy: readonly { readonly file: string; readonly from: number; readonly to: number; readonly length: number; readonly first: number; readonly count: number }[];
  readonly fetch: readonly { readonly start: number; readonly end: number }[];
  readonly reusedBytes: number;
  readonly fetchBytes: number;
}

/**
 * The chunks of local files, found by hash (the first place each is): an open-addressed table of chunk numbers in
 * typed arrays, keyed by the hash's first four bytes (a hash is uniform) and checked on all of it, so that a million
 * chunks cost a few MB beside their indexes.
 */
export class LocalChunks {
  private readonly slots: Int32Array;
  private readonly mask: number;
  /** Per file: its index, where its chunks begin in the global numbering, and each chunk's offset. */
  private readonly files: { file: string; index: ChunkIndex; first: number; offsets: Float64Array }[] = [];

  constructor(files: readonly { readonly file: string; readonly index: ChunkIndex }[]) {
    let total = 0;
    for (const { file, index } of files) {
      const offsets = new Float64Array(index.lengths.length);
      for (let i = 0, at = 0; i < index.lengths.length; at += index.lengths[i] as number, i++) offsets[i] = at;
      this.files.push({ file, index, first: total, offsets });
      total += index.lengths.length;
    }
    let capacity = 16;
    while (capacity < 2 * total) capacity *= 2;
    this.slots = new Int32Array(capacity);
    this.mask = capacity - 1;
    for (const [f, { index }] of this.files.entries()) {
      for (let i = 0; i < index.lengths.length; i++) {
        const found = this.probe(index.hashes, i);
        if (this.slots[found] === 0) this.slots[found] = (this.files[f] as { first: number }).first + i + 1;
      }
    }
  }

  /** The slot of the hash at `i` of `hashes`: the one holding it, else the empty one where it would go. */
  private probe(hashes: Buffer, i: number): number {
    let slot = hashes.readUInt32BE(i * HASH_BYTES) & this.mask;
    for (;;) {
      const held = this.slots[slot] as number;
      if (held === 0) return slot;
      const { index, first } = this.locate(held - 1);
      const j = held - 1 - first;
      if (index.hashes.compare(hashes, i * HASH_BYTES, (i + 1) * HASH_BYTES, j * HASH_BYTES, (j + 1) * HASH_BYTES) === 0) return slot;
      slot = (slot + 1) & this.mask;
    }
  }

  private locate(n: number) {
    let f = this.files.length - 1;
    while ((this.files[f] as { first: number }).first > n) f--;
    return this.files[f] as { file: string; index: ChunkIndex; first: number; offsets: Float64Array };
  }

  /** Where chunk `i` of `index` (its hash and its length) is found here, if it is. */
  find(index: ChunkIndex, i: number): LocalChunk | undefined {
    if (this.files.length === 0) return undefined;
    const held = this.slots[this.probe(index.hashes, i)] as number;
    if (held === 0) return undefined;
    const at = this.locate(held - 1);
    const j = held - 1 - at.first;
    return at.index.lengths[j] === index.lengths[i] ? { file: at.file, offset: at.offsets[j] as number } : undefined;
  }
}

/**
 * Plans the new file from the chunks already here (`local`), pure: every chunk of `index` is copied when a local
 * chunk has its hash and length, else fetched; neighbouring fetches and copies are merged so the downloader makes
 * few, large requests.
 */
export function planDelta(index: ChunkIndex, local: LocalChunks): DeltaPlan {
  const copy: { file: string; from: number; to: number; length: number; first: number; count: number }[] = [];
  const fetch: { start: number; end: number }[] = [];
  let reusedBytes = 0;
  for (let i = 0, offset = 0; i < index.lengths.length; offset += index.lengths[i] as number, i++) {
    const length = index.lengths[i] as number;
    const have = local.find(index, i);
    if (have) {
      reusedBytes += length;
      const last = copy.at(-1);
      if (last && last.file === have.file && last.from + last.length === have.offset && last.to + last.length === offset) {
        last.length += length;
        last.count++;
      } else copy.push({ file: have.file, from: have.offset, to: offset, length, first: i, count: 1 });
      continue;
    }
    const last = fetch.at(-1);
    if (last && last.end + 1 === offset) last.end = offset + length - 1;
    else fetch.push({ start: offset, end: offset + length - 1 });
  }
  return { copy, fetch, reusedBytes, fetchBytes: index.size - reusedBytes };
}

/** The chunks of local files by hash (the first place each is found), for {@link planDelta}. */
export function localChunks(files: readonly { readonly file: string; readonly index: ChunkIndex }[]): LocalChunks {
  return new LocalChunks(files);
}
