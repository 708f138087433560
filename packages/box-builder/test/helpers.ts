/** Test helpers of box-builder: a small "built box" in a folder, as `airy-box build` leaves it. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BoxContentManifest, boxFileName, stringifyContentManifest } from '@airy/box-catalog';
import { contentManifest } from '../src/content.ts';
import { hashFile } from '../src/hash.ts';

/** A folder with a box of `bytes` random bytes (or the given content) and its box.json. */
export async function fakeBuild(version: string, options: { bytes?: number; content?: Buffer } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'airy-built-'));
  const boxFile = join(dir, boxFileName(version, 'libvirt'));
  writeFileSync(boxFile, options.content ?? randomBytes(options.bytes ?? 64 * 1024));
  const manifest: BoxContentManifest = contentManifest({
    version,
    provider: 'libvirt',
    architecture: 'amd64',
    createdAt: '2026-11-26T00:00:00Z',
    gitCommit: 'test',
    skipped: [],
    file: await hashFile(boxFile),
  });
  writeFileSync(join(dir, 'box.json'), stringifyContentManifest(manifest));
  return { dir, boxFile, manifest };
}
