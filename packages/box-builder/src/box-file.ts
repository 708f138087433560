/**
 * The box file as published: Vagrant's tar, gzip-compressed in a way that resynchronises, so that two builds that
 * share most of their bytes share most of their compressed bytes too (and a delta download fetches only the rest).
 *
 * How: the compressor's blocks end at content-defined points of the input (a gear hash, as the chunk index cuts),
 * with a sync flush. A flush keeps deflate's 32 KiB window, so compression barely suffers, and what follows a flush
 * depends only on that window and the bytes after it: 32 KiB after the last difference, the outputs of two builds
 * are byte for byte the same again. This is what `gzip --rsyncable` does; done here so the build needs no GNU gzip
 * or pigz (macOS has neither), and the result is a plain gzip stream every Vagrant reads.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGunzip, createGzip, type Gzip } from 'node:zlib';
import { Chunker, type ChunkSizes } from '@airy/box-catalog';

/** Where the compressor resynchronises: about every 64 KiB of input (a flush costs a few bytes). */
export const RESYNC: ChunkSizes = { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024 };

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
  const chunker = new Chunker(RESYNC);
  const send = async (data: Buffer) => {
    if (data.length > 0 && !gzip.write(data)) await new Promise((r) => gzip.once('drain', r));
  };
  const write = async (data: Buffer) => {
    let at = 0;
    for (const end of chunker.push(data)) {
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
      chunker.end();
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
