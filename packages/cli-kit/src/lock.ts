/**
 * A lock file, so two runs on the same instance folder (or the same download) never collide. It holds the owner's
 * PID; a lock whose owner is gone is stale and taken over.
 */
import { rmSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { isAlive } from './files.js';

/** Another live process holds the lock. */
export class LockedError extends Error {
  constructor(
    readonly path: string,
    readonly pid: number,
  ) {
    super(`${path} is locked by process ${pid}: another run is working here; wait for it, or stop it`);
    this.name = 'LockedError';
  }
}

/** Takes the lock at `path`; the returned function releases it. Throws {@link LockedError} while another holds it. */
export async function acquireLock(path: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      // An exit without release (an error, Ctrl-C) still frees the lock; a release removes that hook again.
      const onExit = () => rmSync(path, { force: true });
      process.once('exit', onExit);
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        process.removeListener('exit', onExit);
        await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (isAlive(pid)) throw new LockedError(path, pid);
      await rm(path, { force: true }); // stale: its owner is gone
    }
  }
  throw new Error(`could not take the lock ${path}`);
}
