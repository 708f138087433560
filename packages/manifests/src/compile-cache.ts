/**
 * Node's compile cache for the CLI (`module.enableCompileCache`, Node 22.1 and later): the compiled code of the
 * modules a run loads is kept on disk, so the next cold start does not compile them again. The bin entry turns it on
 * before it loads the CLI. Kept in a folder of this user's own, or not at all: code read from a folder that another
 * user can write would run as this one. Node's own `NODE_COMPILE_CACHE` (another folder) and
 * `NODE_DISABLE_COMPILE_CACHE=1` are honoured.
 */
import { lstatSync, mkdirSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The cache folder under `base`, created 0700: used only if it is a folder (not a link) that this user owns and
 * nobody else can write; `undefined` otherwise. Where there are no user ids (Windows), the temp folder is the user's.
 */
export function privateCacheDir(base: string = tmpdir(), uid: number | undefined = process.getuid?.()): string | undefined {
  const dir = join(base, uid === undefined ? 'airy-manifests-compile-cache' : `airy-manifests-compile-cache-${uid}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
  }
  if (uid === undefined) return dir;
  try {
    const info = lstatSync(dir);
    return info.isDirectory() && info.uid === uid && (info.mode & 0o022) === 0 ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Turns the compile cache on in {@link privateCacheDir}, unless Node's variables said otherwise or it has none. */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): void {
  // Node acted on its variables at start: NODE_COMPILE_CACHE is on already, NODE_DISABLE_COMPILE_CACHE keeps it off.
  if (env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE !== undefined) return;
  const enable = (nodeModule as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache;
  if (!enable) return;
  const dir = privateCacheDir();
  if (dir) enable(dir);
}
