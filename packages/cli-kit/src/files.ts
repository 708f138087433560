/** Files written for users: whole or not at all, and private from the start when they hold secrets. */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A fresh temporary name beside `path` (`PATH.tmp-PID-HEX`): what a store listing skips as not yet written. */
export function tempPathBeside(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Writes `text` to `path` atomically: a fresh temporary file beside it (created with `mode`, never through a link),
 * then a rename over the old one, so a reader never sees half a file and a link at `path` is replaced, not followed.
 */
export async function writeFileAtomic(path: string, text: string | Uint8Array, options: { mode?: number } = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPathBeside(path);
  try {
    await writeFile(temp, text, { flag: 'wx', mode: options.mode ?? 0o644 });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Whether a process with this PID is alive (EPERM: alive, but another user's). */
export function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
