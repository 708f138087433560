/**
 * The local-folder implementation of {@link ObjectStore} (`file:///dir`): a catalog a team file server or
 * bootstrap can read directly. Writes are atomic (temp file, then rename); conditional writes hold a lock file.
 * The store is not trusted to be only folders and files: a symbolic link anywhere under its root is refused, so
 * nothing is read or written through one (keys are checked lexically too).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { type ObjectStore, PreconditionFailedError, type StoredObject, type UploadOptions, type WriteCondition } from './store.js';

const etagOf = (body: string) => `"${createHash('sha256').update(body).digest('hex')}"`;
const tempName = (path: string) => `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;

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

/** An {@link ObjectStore} on a local folder. */
export class FileStore implements ObjectStore {
  readonly location: string;

  /** `publicUrl`: the base URL downloaders use, when the folder is served over HTTP (a team file server). */
  constructor(
    private readonly root: string,
    private readonly publicUrl?: string,
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

  private async writeAtomic(path: string, body: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const temp = tempName(path);
    try {
      // wx: a new file of our own, never one (or a link) already at that name. The rename then replaces the name
      // itself, so even a link planted after the check is replaced, not written through.
      await writeFile(temp, body, { flag: 'wx' });
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async put(key: string, body: string, condition: WriteCondition = {}): Promise<void> {
    const path = await this.safePath(key);
    if (!condition.ifMatch && !condition.ifNoneMatch) return this.writeAtomic(path, body);
    await mkdir(dirname(path), { recursive: true });
    const lock = `${path}.lock`;
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(lock, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new PreconditionFailedError(key);
      throw error;
    }
    try {
      const current = await this.get(key);
      if (condition.ifNoneMatch && current) throw new PreconditionFailedError(key);
      if (condition.ifMatch && current?.etag !== condition.ifMatch) throw new PreconditionFailedError(key);
      await this.writeAtomic(path, body);
    } finally {
      await handle.close();
      await rm(lock, { force: true });
    }
  }

  async list(prefix: string): Promise<string[]> {
    const dir = await this.safePath(prefix.endsWith('/') ? prefix : dirname(prefix));
    let entries: string[];
    try {
      entries = (await readdir(dir, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile() && !/\.(tmp-\d+-[0-9a-f]+|lock|sha256)$/.test(e.name))
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
    const temp = tempName(path);
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
      await this.writeAtomic(`${path}.sha256`, `${options.sha256}\n`);
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }
}
