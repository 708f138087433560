/**
 * A lock, so two runs on the same instance folder (or the same download) never collide.
 *
 * The lock at `path` is a directory holding one entry whose name says who owns it: `owner.PID.START.BOOT.NONCE`
 * (the process start time and the boot id on Linux, `-` where unknown). A name is written whole by the kernel, so
 * there is never a half-written owner to misread as a dead one, and each step is one atomic call:
 * - taking: a directory made aside with its owner entry inside is renamed to `path`, which succeeds only while
 *   `path` is missing or empty;
 * - taking over a stale lock: its owner entry is removed by name (only one racer can remove it; a racer who
 *   misjudged an older owner finds no such entry), which leaves `path` empty (free: it is removed while empty, as
 *   Windows cannot rename onto it), and then taking as above, which only one racer wins;
 * - releasing: the owner's own entry is removed and the empty directory removed, never another's.
 * An owner is alive while its PID runs with the same start time in the same boot, so a PID reused after a crash or
 * a reboot is not "another run".
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isAlive } from './files.js';
import { AiryError } from './reasons.js';

/** Another live process holds the lock. */
export class LockedError extends AiryError {
  constructor(
    readonly path: string,
    readonly pid: number,
  ) {
    super('LOCKED', `${path} is locked by process ${pid}: another run is working here; wait for it, or stop it`);
    this.name = 'LockedError';
  }
}

/** Who holds a lock: a process, told apart from a later one with the same PID by its start time and boot. */
export interface LockOwner {
  readonly pid: number;
  /** The process start time in clock ticks since boot (`/proc/PID/stat` field 22); undefined where unknown. */
  readonly start?: string;
  /** The kernel's boot id (`/proc/sys/kernel/random/boot_id`); undefined where unknown. */
  readonly boot?: string;
  /** Random, so two owner entries are never the same name. */
  readonly nonce: string;
}

const PREFIX = 'owner.';

/** The entry name of `owner`. Pure. */
export function ownerEntry(owner: LockOwner): string {
  return `${PREFIX}${owner.pid}.${owner.start ?? '-'}.${owner.boot ?? '-'}.${owner.nonce}`;
}

/** The owner an entry name describes, or undefined for a name that is not an owner entry. Pure. */
export function parseOwnerEntry(name: string): LockOwner | undefined {
  const m = /^owner\.(\d+)\.(\d+|-)\.([0-9a-f-]+)\.([0-9a-f]+)$/.exec(name);
  if (!m) return undefined;
  const [, pid, start, boot, nonce] = m as unknown as [string, string, string, string, string];
  return {
    pid: Number(pid),
    start: start === '-' ? undefined : start,
    boot: boot === '-' ? undefined : boot,
    nonce,
  };
}

/** What the machine says now: the boot id, and a PID's start time (undefined where it cannot say). */
export interface ProcessProbe {
  readonly boot: string | undefined;
  readonly isAlive: (pid: number) => boolean;
  readonly startOf: (pid: number) => string | undefined;
}

/**
 * Whether `owner` still runs: a lock of another boot is stale, and so is one whose PID is gone or now names a
 * process that started at another time (a reused PID). Where a fact is unknown, the PID alone decides. Pure.
 */
export function ownerAlive(owner: LockOwner, probe: ProcessProbe): boolean {
  if (owner.boot && probe.boot && owner.boot !== probe.boot) return false;
  if (!probe.isAlive(owner.pid)) return false;
  if (owner.start === undefined) return true;
  const start = probe.startOf(owner.pid);
  return start === undefined || start === owner.start;
}

/** The start time of `pid` from `/proc/PID/stat` (field 22; fields counted after the command's last `)`). */
function startOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return start && /^\d+$/.test(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

function bootId(): string | undefined {
  try {
    const id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().toLowerCase();
    return /^[0-9a-f-]+$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** This machine, as the lock sees it. */
export const systemProbe: ProcessProbe = { boot: bootId(), isAlive, startOf };

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/** What rename says when `path` is there and not an empty directory (Windows: EPERM, even when it is empty). */
const TAKEN = ['ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EISDIR', ...(process.platform === 'win32' ? ['EPERM'] : [])];

/** How many times a take is retried when the lock changed hands under it (not while another holds it). */
const ATTEMPTS = 20;

/**
 * Takes the lock at `path`; the returned function releases it. Throws {@link LockedError} while another live owner
 * holds it; a stale lock (its owner gone) is taken over by exactly one of any number of racers.
 */
export async function acquireLock(path: string, probe: ProcessProbe = systemProbe): Promise<() => Promise<void>> {
  const me = ownerEntry({
    pid: process.pid,
    start: probe.startOf(process.pid),
    boot: probe.boot,
    nonce: randomBytes(8).toString('hex'),
  });
  // Made aside, whole, before it can be seen at `path`.
  const staged = join(dirname(path), `.${basename(path)}.${me}`);
  await mkdir(staged);
  await mkdir(join(staged, me));
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        await rename(staged, path);
        await clearStaged(path, probe);
        return holding(path, me);
      } catch (error) {
        if (!TAKEN.includes(code(error) ?? '')) throw error;
      }
      await clearIfStale(path, probe);
    }
    throw new Error(
      `could not take the lock ${path}: it holds no owner this version knows, or changed hands ${ATTEMPTS} times; if no run is working here, remove it`,
    );
  } catch (error) {
    await rm(staged, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Looks at the lock at `path`: a live owner throws {@link LockedError}; a stale owner's entry is removed (by name,
 * so only that owner's); otherwise it returns so the caller tries again.
 */
async function clearIfStale(path: string, probe: ProcessProbe): Promise<void> {
  const stat = await lstat(path).catch(() => undefined);
  if (stat === undefined) return; // released meanwhile
  if (!stat.isDirectory()) return clearLegacy(path, probe);
  const names = await readdir(path).catch(() => [] as string[]);
  for (const name of names) {
    const owner = parseOwnerEntry(name);
    if (owner === undefined) continue;
    if (ownerAlive(owner, probe)) throw new LockedError(path, owner.pid);
    // ENOENT: another racer took this stale lock over first; the next attempt sees the new owner.
    await rmdir(join(path, name)).catch((error) => {
      if (code(error) !== 'ENOENT') throw error;
    });
  }
  // An empty lock directory is free. Windows cannot rename onto it, so it is removed (only while empty: a take that
  // lands in it first makes this fail, and that take stands).
  await rmdir(path).catch((error) => {
    if (!['ENOTEMPTY', 'EEXIST', 'ENOENT', 'EPERM', 'EBUSY'].includes(code(error) ?? '')) throw error;
  });
}

/** Removes what a run that died while taking the lock left staged beside it (never a live run's). */
async function clearStaged(path: string, probe: ProcessProbe): Promise<void> {
  const prefix = `.${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    const owner = name.startsWith(prefix) ? parseOwnerEntry(name.slice(prefix.length)) : undefined;
    if (owner && !ownerAlive(owner, probe)) await rm(join(dirname(path), name), { recursive: true, force: true });
  }
}

/** A lock file of an earlier version (a regular file holding a PID): refused while its PID runs, else removed. */
async function clearLegacy(path: string, probe: ProcessProbe): Promise<void> {
  const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
  if (probe.isAlive(pid)) throw new LockedError(path, pid);
  // unlink never removes a directory, so a lock of this version taken meanwhile stays.
  await unlink(path).catch(() => undefined);
}

/** The release of a lock held as `me`; an exit without it (an error, Ctrl-C) still frees the lock. */
function holding(path: string, me: string): () => Promise<void> {
  const free = () => {
    try {
      freeOwn(path, me);
    } catch {
      // Already gone: nothing of ours is left to free.
    }
  };
  process.once('exit', free);
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    process.removeListener('exit', free);
    free();
  };
}

/** Removes our owner entry, then the lock directory if it is still empty (another may have taken it at once). */
function freeOwn(path: string, me: string): void {
  rmdirSync(join(path, me));
  try {
    rmdirSync(path);
  } catch (error) {
    if (!['ENOTEMPTY', 'EEXIST', 'ENOENT'].includes(code(error) ?? '')) throw error;
  }
}

/** The owners named in the lock at `path` (none when it is free); for status and tests. */
export function lockOwners(path: string): LockOwner[] {
  try {
    return readdirSync(path).flatMap((name) => parseOwnerEntry(name) ?? []);
  } catch {
    return [];
  }
}
