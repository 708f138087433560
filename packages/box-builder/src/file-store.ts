/**
 * The local-folder implementation of {@link ObjectStore} (`file:///dir`): a catalog a team file server or
 * bootstrap can read directly. Writes are atomic (temp file, then rename); conditional writes hold a lock file
 * that names its holder, and a lock whose holder is gone (a publisher killed while holding it) is taken over.
 * The store is not trusted to be only folders and files: a symbolic link anywhere under its root is refused, so
 * nothing is read or written through one (keys are checked lexically too).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { isAlive, tempPathBeside, writeFileAtomic } from '@airy/cli-kit';
import { type ObjectStore, PreconditionFailedError, type StoredObject, StoreLockedError, type UploadOptions, type WriteCondition } from './store.js';

const etagOf = (body: string) => `"${createHash('sha256').update(body).digest('hex')}"`;

/** The file store holds a symbolic link where a key's folder or file is. */
export class StoreLinkError extends Error {
  constructor(
    readonly key: string,
    location: string,
  ) {
    super(`${location} holds a symbolic link at ${key}: the store follows no links; replace it with a folder or file of its own`);
    this.name = 'StoreLinkError';
  }
}

/**
 * How long a conditional write may hold its lock: it reads and rewrites one small file, so a lock older than this
 * was left by a publisher that died (on this or another host sharing the folder), and is taken over.
 */
export const LOCK_STALE_MS = 30_000;

/** What a lock file says of its holder (written into it when taken). */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
}

/** A lock file as found: its holder (undefined when it names none, as an earlier version's empty lock) and age. */
export interface FoundLock {
  readonly holder?: LockHolder;
  readonly ageMs: number;
}

/** The holder a lock file's text names, or undefined when it names none. Pure. */
export function parseLockHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder> | null;
    if (Number.isInteger(value?.pid) && typeof value?.host === 'string') return { pid: value.pid as number, host: value.host };
  } catch {
    // Not what we write: a lock that names no holder.
  }
  return undefined;
}

/**
 * Why a lock is stale (its holder cannot be running), or undefined while it may be held. A holder on this host is
 * asked for by PID; one elsewhere (a shared folder) only by the lock's age, as is a lock that names no one. Pure.
 */
export function staleLockReason(lock: FoundLock, here: { host: string; isAlive: (pid: number) => boolean; staleMs?: number }): string | undefined {
  const staleMs = here.staleMs ?? LOCK_STALE_MS;
  if (lock.holder && lock.holder.host === here.host && !here.isAlive(lock.holder.pid)) return `its holder, process ${lock.holder.pid} on this host, is gone`;
  if (lock.ageMs > staleMs) return `it is ${Math.round(lock.ageMs / 1000)} s old, and a publisher holds it for a moment only`;
  return undefined;
}

/** Who holds a lock, for a message. Pure. */
export function describeLock(lock: FoundLock): string {
  const who = lock.holder ? `process ${lock.holder.pid} on host ${lock.holder.host}` : 'a publisher that did not say who it is';
  return `held by ${who} for ${Math.round(lock.ageMs / 1000)} s`;
}

/** The error of a lock that may still be held: who holds it, and what to do. Pure. */
export function lockedError(key: string, lockUrl: string, lock: FoundLock): StoreLockedError {
  return new StoreLockedError(
    key,
    `${lockUrl} is ${describeLock(lock)}: another publish is writing ${key}; wait for it, ` +
      `or, if no publisher runs, remove that file (a lock is taken over by itself once ${LOCK_STALE_MS / 1000} s old)`,
  );
}

/** An {@link ObjectStore} on a local folder. */
export class FileStore implements ObjectStore {
  readonly location: string;

  /**
   * `publicUrl`: the base URL downloaders use, when the folder is served over HTTP (a team file server). `log`
   * hears of a stale lock taken over.
   */
  constructor(
    private readonly root: string,
    private readonly publicUrl?: string,
    private readonly options: { readonly log?: (line: string) => void } = {},
  ) {
    this.location = pathToFileURL(root).href;
  }

  private path(key: string): string {
    const path = join(this.root, key);
    if (relative(this.root, path).startsWith('..')) throw new Error(`key ${key} leaves the catalog folder`);
    return path;
  }

  /** The path of `key` after checking that no part of it below the root is a symbolic link. */
  private async safePath(key: string): Promise<string> {
    const path = this.path(key);
    let at = this.root;
    for (const part of relative(this.root, path).split(sep)) {
      at = join(at, part);
      const info = await lstat(at).catch(() => undefined);
      if (!info) break;
      await this.refuseLink(at, info);
    }
    return path;
  }

  /**
   * Throws {@link StoreLinkError} when `path` (one of a key's own files, such as its `.sha256` beside it) is a
   * symbolic link: its folder was checked by {@link safePath}, the name itself must be checked too.
   */
  private async refuseLink(path: string, info?: Awaited<ReturnType<typeof lstat>>): Promise<void> {
    const seen = info ?? (await lstat(path).catch(() => undefined));
    if (seen?.isSymbolicLink()) throw new StoreLinkError(relative(this.root, path).split(sep).join('/'), this.location);
  }

  url(key: string): string {
    if (this.publicUrl) return `${this.publicUrl.replace(/\/+$/, '')}/${key}`;
    return pathToFileURL(this.path(key)).href;
  }

  async get(key: string): Promise<StoredObject | undefined> {
    try {
      const body = await readFile(await this.safePath(key), 'utf8');
      return { body, etag: etagOf(body) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async put(key: string, body: string, condition: WriteCondition = {}): Promise<void> {
    const path = await this.safePath(key);
    if (!condition.ifMatch && !condition.ifNoneMatch) return writeFileAtomic(path, body);
    await mkdir(dirname(path), { recursive: true });
    const lock = `${path}.lock`;
    const mine = await this.takeLock(key, lock);
    try {
      const current = await this.get(key);
      if (condition.ifNoneMatch && current) throw new PreconditionFailedError(key);
      if (condition.ifMatch && current?.etag !== condition.ifMatch) throw new PreconditionFailedError(key);
      await writeFileAtomic(path, body);
    } finally {
      // Only our own lock: had ours been taken over (we stalled past LOCK_STALE_MS), the file is another's now.
      if ((await readFile(lock, 'utf8').catch(() => '')) === mine) await rm(lock, { force: true });
    }
  }

  /**
   * Takes the lock at `lock`, writing who holds it; returns the text written. A stale lock (see
   * {@link staleLockReason}) is taken over, and said so; a live one throws {@link lockedError}'s.
   */
  private async takeLock(key: string, lock: string): Promise<string> {
    await this.refuseLink(lock);
    const mine = `${JSON.stringify({ pid: process.pid, host: hostname(), nonce: randomBytes(8).toString('hex') })}\n`;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        // wx: created only if no lock is there (and never through a link); the holder is written before it is freed.
        await writeFile(lock, mine, { flag: 'wx' });
        return mine;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const info = await lstat(lock).catch(() => undefined);
      if (!info) continue; // freed meanwhile
      const found: FoundLock = { holder: parseLockHolder(await readFile(lock, 'utf8').catch(() => '')), ageMs: Math.max(0, Date.now() - info.mtimeMs) };
      const stale = staleLockReason(found, { host: hostname(), isAlive });
      if (!stale) throw lockedError(key, pathToFileURL(lock).href, found);
      await this.removeStaleLock(lock, info.ino);
      this.options.log?.(`took over ${pathToFileURL(lock).href}, ${describeLock(found)}: ${stale}`);
    }
    throw new PreconditionFailedError(key);
  }

  /**
   * Removes the stale lock at `lock` (inode `ino`) and only it: moved aside first, so a racer who took a fresh lock
   * there meanwhile gets it back (link fails rather than replace a newer one).
   */
  private async removeStaleLock(lock: string, ino: number): Promise<void> {
    const aside = `${lock}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await rename(lock, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // another racer removed it first
      throw error;
    }
    const moved = await lstat(aside);
    if (moved.ino !== ino) await link(aside, lock).catch(() => undefined);
    await rm(aside, { force: true });
  }

  async list(prefix: string): Promise<string[]> {
    const dir = await this.safePath(prefix.endsWith('/') ? prefix : dirname(prefix));
    let entries: string[];
    try {
      entries = (await readdir(dir, { recursive: true, withFileTypes: true }))
        // Skipped: writeFileAtomic's and tempPathBeside's temporaries, locks, and the checksums beside boxes.
        .filter((e) => e.isFile() && !/\.(tmp-\d+-[0-9a-f]+|lock|lock\.stale-\d+-[0-9a-f]+|sha256)$/.test(e.name))
        .map((e) => relative(this.root, join(e.parentPath, e.name)).split(sep).join('/'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return entries.filter((k) => k.startsWith(prefix)).sort();
  }

  async head(key: string): Promise<{ size: number; sha256?: string } | undefined> {
    try {
      const path = await this.safePath(key);
      const info = await stat(path);
      await this.refuseLink(`${path}.sha256`);
      const sha256 = await readFile(`${path}.sha256`, 'utf8').catch(() => undefined);
      return { size: info.size, sha256: sha256?.trim() };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async upload(key: string, file: string, options: UploadOptions): Promise<void> {
    const path = await this.safePath(key);
    await this.refuseLink(`${path}.sha256`);
    await mkdir(dirname(path), { recursive: true });
    const temp = tempPathBeside(path);
    let sent = 0;
    const progress = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        sent += chunk.length;
        options.onProgress?.(sent, options.size);
        done(null, chunk);
      },
    });
    try {
      await pipeline(createReadStream(file), progress, createWriteStream(temp, { flags: 'wx' }), { signal: options.signal });
      await writeFileAtomic(`${path}.sha256`, `${options.sha256}\n`);
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }
}
