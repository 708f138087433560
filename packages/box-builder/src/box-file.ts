/**
 * The box file as published: Vagrant's tar, gzip-compressed in a way that resynchronises, so that two builds that
 * share most of their bytes share most of their compressed bytes too (and a delta download fetches only the rest).
 *
 * How: the compressor's blocks end at content-defined points of the input (a gear hash), with a sync flush, whose
 * marker the chunk index cuts after. A flush keeps deflate's 32 KiB window, so compression barely suffers, and what
 * follows a flush depends only on that window and the bytes after it: 32 KiB after the last difference, the outputs
 * of two builds are byte for byte the same again. This is what `gzip --rsyncable` does; done here so the build needs no GNU gzip
 * or pigz (macOS has neither), and the result is a plain gzip stream every Vagrant reads.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGunzip, createGzip, type Gzip } from 'node:zlib';

/**
 * How often the compressor resynchronises: about every 64 KiB of input (a flush costs a few bytes). Each segment is
 * one chunk of the box's index (box-catalog's chunks.ts cuts after each flush): measured on the e2e's two real boxes
 * (a 4 MiB change), 64 KiB fetched 6.2 MiB and its index 0.3 MiB; 16 KiB fetched 5.5 MiB with an index four times
 * the size; merging segments to at least 32 KiB of output fetched 7.3 MiB.
 */
export const RESYNC = { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024 } as const;

/** The gear hash's table: 256 values derived from SHA-256, so it never changes. */
const GEAR = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) table[i] = createHash('sha256').update(`airy-gear/v1:${i}`).digest().readUInt32BE(0);
  return table;
})();

/** A mask of `bits` ones from the top of 32 bits. */
const topBits = (bits: number) => (0xffffffff << (32 - bits)) >>> 0;
/** The gear hash forgets a byte after 32 shifts: hashing may start this far before the minimum. */
const WINDOW = 32;

/**
 * Where the compressor resynchronises: a gear hash (32 bits) over the input, a cut where its top bits are zero,
 * normalised as FastCDC does (harder before the average size, easier after), within a minimum and a maximum. A cut
 * depends only on the 32 bytes before it, so a change moves the cuts near it and no others. `push` the bytes as they
 * come (any slicing gives the same cuts); it returns where in `data` each segment it completed ends.
 */
export class ResyncPoints {
  private hash = 0;
  private length = 0;
  private readonly maskBefore = topBits(Math.log2(RESYNC.avg) + 2);
  private readonly maskAfter = topBits(Math.log2(RESYNC.avg) - 2);

  push(data: Uint8Array): number[] {
    const { min, avg, max } = RESYNC;
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
}

/** Whether a file starts with gzip's magic bytes. */
async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/** Writes into `gzip`, ending a deflate block with a sync flush at each content-defined cut. */
function resyncingWriter(gzip: Gzip): Writable {
  const points = new ResyncPoints();
  const send = async (data: Buffer) => {
    if (data.length > 0 && !gzip.write(data)) await new Promise((r) => gzip.once('drain', r));
  };
  const write = async (data: Buffer) => {
    let at = 0;
    for (const end of points.push(data)) {
      await send(data.subarray(at, end));
      await new Promise<void>((resolve) => gzip.flush(constants.Z_SYNC_FLUSH, () => resolve()));
      at = end;
    }
    await send(data.subarray(at));
  };
  return new Writable({
    write(data: Buffer, _encoding, done) {
      write(data).then(() => done(), done);
    },
    final(done) {
      gzip.end();
      done();
    },
  });
}

/**
 * Recompresses the box at `path` in place, resynchronising (see the module comment); a box Packer wrote as a plain
 * tar or as gzip both work. Level 6, as Packer's own default. On failure the box is as it was.
 */
export async function resyncBox(path: string, options: { signal?: AbortSignal } = {}): Promise<void> {
  const temp = `${path}.resync`;
  const gzip = createGzip({ level: 6 });
  const written = pipeline(gzip, createWriteStream(temp, { mode: 0o644 }), { signal: options.signal });
  // Awaited below; a failure before that (an abort) is the reading side's to report.
  written.catch(() => undefined);
  try {
    const source = createReadStream(path, { highWaterMark: 1024 * 1024 });
    const writer = resyncingWriter(gzip);
    if (await isGzip(path)) await pipeline(source, createGunzip(), writer, { signal: options.signal });
    else await pipeline(source, writer, { signal: options.signal });
    await written;
    await rename(temp, path);
  } catch (error) {
    gzip.destroy();
    await written.catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
}
