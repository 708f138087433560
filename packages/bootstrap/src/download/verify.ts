/**
 * Verification: SHA-256 of a file or of its blocks in file order while later ones still arrive, and the verified
 * marker that lets a re-run skip the download.
 */
import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open, readFile, stat } from 'node:fs/promises';
import { field, stateFileProblem, writeFileAtomic } from '@airy/cli-kit';
import * as v from 'valibot';
import type { Block } from './blocks.js';
import { markerPath, MiB } from './files.js';

export interface Marker {
  readonly sha256: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** The verified marker's check, one entry per key of {@link Marker}. */
const MARKER_ENTRIES: { readonly [K in keyof Required<Marker>]: v.GenericSchema<unknown, Marker[K]> } = {
  sha256: field.matching(/^[0-9a-f]{64}$/, 'a SHA-256 of 64 hex digits', 64),
  size: field.whole(0),
  mtimeMs: v.pipe(v.number('must be a number'), v.finite('must be a finite number'), v.minValue(0, 'must not be negative')),
};
const MARKER = { schema: field.object(MARKER_ENTRIES) as v.GenericSchema<unknown, Marker>, maxBytes: 4096 };

/** A verified marker's text, if it is a sound one: anything else means the file is verified again. */
export function parseMarker(text: string): Marker | undefined {
  const checked = stateFileProblem(text, MARKER);
  return 'value' in checked ? checked.value : undefined;
}

/** Whether `out` is already the verified file (same hash, size and mtime as when we verified it). */
export async function isVerified(out: string, sha256: string): Promise<boolean> {
  try {
    const marker = parseMarker(await readFile(markerPath(out), 'utf8'));
    const info = await stat(out);
    return marker !== undefined && marker.sha256 === sha256 && marker.size === info.size && marker.mtimeMs === info.mtimeMs;
  } catch {
    return false;
  }
}

/**
 * Feeds bytes `start..end` (inclusive) of an open file to `hash` through one reused buffer: a fresh buffer per
 * read is garbage the GC frees late, and that shows as RSS.
 */
export async function hashRange(file: FileHandle, start: number, end: number, buffer: Buffer, hash: Hash): Promise<void> {
  for (let position = start; position <= end; ) {
    const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, end - position + 1), position);
    if (bytesRead === 0) throw new Error(`the file ends before byte ${position}`);
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
}

export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  const file = await open(path, 'r');
  try {
    await hashRange(file, 0, (await file.stat()).size - 1, Buffer.allocUnsafe(MiB), hash);
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}


/**
 * SHA-256 of the part file, fed in file order as blocks finish: `advance()` hashes every finished block from the
 * cursor on (reading from the page cache), `digest()` hashes whatever is left and returns the hex digest.
 */
export function orderedHasher(path: string, blocks: readonly Block[], done: ReadonlySet<number>) {
  const hash = createHash('sha256');
  let cursor = 0;
  let running = Promise.resolve();
  let failure: unknown;
  const buffer = Buffer.allocUnsafe(MiB);
  const ready = (all: boolean) => cursor < blocks.length && (all || done.has(cursor));
  const step = async (all: boolean) => {
    if (!ready(all)) return;
    const file = await open(path, 'r');
    try {
      for (; ready(all); cursor++) {
        const c = blocks[cursor] as Block;
        await hashRange(file, c.start, c.end, buffer, hash);
      }
    } finally {
      await file.close();
    }
  };
  return {
    advance() {
      running = running.then(() => step(false)).catch((error) => {
        failure ??= error;
      });
    },
    async digest() {
      await running;
      if (failure) throw failure;
      await step(true);
      return hash.digest('hex');
    },
  };
}


/** The verified marker, written atomically: a link at its path is replaced, not followed. */
export async function writeMarker(out: string, marker: Marker): Promise<void> {
  await writeFileAtomic(markerPath(out), JSON.stringify(marker));
}
