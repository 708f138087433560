/**
 * Test data for the chunk index and the delta download: pseudo-random bytes from a seed (the same for every run), and
 * a stream cut as the box's compressor cuts it: segments each ended by a sync flush's marker.
 */
import { createHash } from 'node:crypto';

/** What a sync flush ends with (box-catalog's chunks.ts cuts after it). */
export const FLUSH_MARKER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** `size` pseudo-random bytes from `seed`. */
export function bytes(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  for (let at = 0, n = 0; at < size; n++) at += createHash('sha256').update(`${seed}:${n}`).digest().copy(out, at);
  return out;
}

/** A compressed-like stream of `segments` pseudo-random segments of 1 to 64 KiB, each ended by a flush's marker. */
export function flushed(segments: number, seed: string): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < segments; i++) {
    const kib = 1 + (createHash('sha256').update(`${seed}/${i}`).digest().readUInt16BE(0) % 64);
    parts.push(bytes(kib * 1024 - FLUSH_MARKER.length, `${seed}-${i}`), FLUSH_MARKER);
  }
  return Buffer.concat(parts);
}
