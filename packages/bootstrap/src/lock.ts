/**
 * A lock file, so two runs on the same instance folder (or the same download) never collide. It holds the owner's
 * PID; a lock whose owner is gone is stale and taken over.
 */
import { rmSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';

/** Another live process holds the lock. */
export class LockedError extends Error {
  constructor(
    readonly path: string,
    readonly pid: number,
  ) {
    super(`${path} is locked by process ${pid}: another airy-bootstrap is working here; wait for it, or stop it`);
    this.name = 'LockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock at `path`; the returned function releases it. Throws {@link LockedError} while another holds it. */
export async function acquireLock(path: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      let released = false;
      const release = async () => {
        if (released) return;
        released = true;
        await rm(path, { force: true });
      };
      // An exit without release (an error, Ctrl-C) still frees the lock.
      process.once('exit', () => {
        if (!released) rmSync(path, { force: true });
      });
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(pid) && alive(pid)) throw new LockedError(path, pid);
      await rm(path, { force: true }); // stale: its owner is gone
    }
  }
  throw new Error(`could not take the lock ${path}`);
}
