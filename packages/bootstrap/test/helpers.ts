/** Test helpers of bootstrap: a large box file served over HTTP, and a catalog that points at it. */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addRelease, BOX_NAME, emptyCatalog, stringifyCatalog } from '@airy/box-catalog';

const MiB = 2 ** 20;

/** Writes `size` bytes of random data (a 16 MiB pattern repeated, so it is quick) and returns its SHA-256. */
export function writeBox(path: string, size: number): string {
  const hash = createHash('sha256');
  const block = randomBytes(16 * MiB);
  const fd = openSync(path, 'w');
  for (let written = 0; written < size; written += block.length) {
    const piece = block.subarray(0, Math.min(block.length, size - written));
    writeSync(fd, piece);
    hash.update(piece);
  }
  closeSync(fd);
  return hash.digest('hex');
}

/** A served folder with `box.box` of `size` bytes and a catalog for it at `metadata.json`. */
export function servedBox(size: number, baseUrl: () => string) {
  const root = mkdtempSync(join(tmpdir(), 'airy-served-'));
  mkdirSync(join(root, 'boxes'));
  const sha256 = writeBox(join(root, 'boxes', 'box.box'), size);
  const writeCatalog = (checksum = sha256) =>
    writeFileSync(
      join(root, 'metadata.json'),
      stringifyCatalog(
        addRelease(emptyCatalog(BOX_NAME), '1.0.0', {
          name: 'libvirt',
          url: `${baseUrl()}/boxes/box.box`,
          checksum_type: 'sha256',
          checksum,
          architecture: 'amd64',
          size,
        }).catalog,
      ),
    );
  return { root, sha256, writeCatalog, boxPath: join(root, 'boxes', 'box.box') };
}
