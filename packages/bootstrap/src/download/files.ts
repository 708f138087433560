/** The files of one download beside its output: the part, the resume state, the marker; and the output's checks. */
import { constants } from 'node:fs';
import { type FileHandle, lstat, open, readFile, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorCode } from '../errors.js';
import { deltaFiles, parseResumeState, wholeFiles } from './resume.js';
import { DownloadError, OutputPathError } from './request.js';

export const MiB = 2 ** 20;

/**
 * Blocks of 1/32 of the file, between 8 and 64 MiB: large enough that per-request cost does not matter, small
 * enough that eight connections stay busy and a restart loses little. It depends on the size alone, so a resume
 * with other `--connections` still matches the saved state.
 */
export function defaultBlockSize(size: number): number {
  return Math.min(64 * MiB, Math.max(8 * MiB, Math.ceil(size / 32 / MiB) * MiB));
}
export const markerPath = (out: string) => `${out}.verified`;

/**
 * Refuses an output path that is not a plain file (or not there yet): a folder, a device, a FIFO, a socket, or a
 * symbolic link, which would send the box somewhere else. Checked before anything is downloaded.
 */
export async function checkOutput(out: string): Promise<void> {
  const [whole, delta] = [wholeFiles(out), deltaFiles(out)];
  for (const path of [out, whole.part, markerPath(out), whole.state, delta.part, delta.state]) {
    const info = await lstat(path).catch(() => undefined);
    if (!info || info.isFile()) continue;
    const kind = info.isSymbolicLink() ? 'a symbolic link' : info.isDirectory() ? 'a folder' : info.isFIFO() ? 'a FIFO' : info.isSocket() ? 'a socket' : 'a device';
    throw new OutputPathError(path, kind);
  }
}

/** The box size, for the disk-full message: from the resume state when there is one. */
export async function remoteSizeHint(out: string): Promise<number> {
  return readFile(wholeFiles(out).state, 'utf8').then((t) => parseResumeState(t)?.size ?? 0, () => 0);
}

/**
 * Opens a `file:` box for reading, as catalogs are opened: without blocking (a FIFO would wait for a writer for
 * ever, and no signal ends an open()), then refused unless it is a plain file. A `file://host/…` URL names another
 * machine and is refused in one line. The caller closes the handle.
 */
export async function openLocalBox(url: string, root?: string): Promise<{ handle: FileHandle; size: number }> {
  const parsed = new URL(url);
  if (parsed.host !== '' && parsed.host !== 'localhost') {
    throw new DownloadError(`${url}: a file: URL with a host (${parsed.host}) names another machine: the catalog must say file:///path`);
  }
  if (root !== undefined && !(await isWithin(fileURLToPath(parsed), root))) {
    throw new DownloadError(`${url} is outside the catalog's folder (${root}): put the box beside the catalog, or set ${ANYWHERE_ENV}=1 to allow it`);
  }
  const handle = await open(fileURLToPath(parsed), constants.O_RDONLY | constants.O_NONBLOCK).catch((error: unknown) => {
    const code = errorCode(error);
    throw new DownloadError(code === 'ENOENT' ? `${url}: no such file: the catalog points at a missing box` : `${url} cannot be read (${code ?? 'unreadable'})`);
  });
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    throw new DownloadError(`${url} is not a plain file (a FIFO, a device or a folder): the catalog must point at a box file`);
  }
  return { handle, size: info.size };
}

/** The environment variable that lets a `file:` catalog name boxes outside its own folder. */
export const ANYWHERE_ENV = 'AIRY_BOX_ANYWHERE';

/**
 * The folder a `file:` catalog's boxes must be in: its own (a catalog may not make the downloader read, and print the
 * SHA-256 of, any file on the machine). None for other catalogs, or with {@link ANYWHERE_ENV}=1.
 */
export function localRootOf(catalogUrl: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return catalogUrl.startsWith('file:') && env[ANYWHERE_ENV] !== '1' ? dirname(fileURLToPath(catalogUrl)) : undefined;
}

/** Whether `path` is inside `root`, both with their links resolved (a `..` or a link does not lead out). */
export async function isWithin(path: string, root: string): Promise<boolean> {
  const real = async (p: string) => realpath(p).catch(() => resolve(p));
  const [file, folder] = await Promise.all([real(path), real(root)]);
  const rel = relative(folder, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}
