/** Where bootstrap keeps things: the instance folder and the verified box cache. */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The default instance folder, `~/.airy/core` (`--dir` changes it). */
export function defaultInstanceDir(): string {
  return join(homedir(), '.airy', 'core');
}

/** The default cache of verified boxes, `~/.airy/cache` (`--cache` changes it). */
export function defaultCacheDir(): string {
  return join(homedir(), '.airy', 'cache');
}

/** The default public catalog (`--catalog` or `AIRY_BOX_CATALOG` override it). */
export const DEFAULT_CATALOG = 'https://airy-core-boxes.s3.eu-central-1.amazonaws.com/metadata.json';

/** Files inside an instance folder. */
export function instanceFiles(dir: string) {
  return {
    vagrantfile: join(dir, 'Vagrantfile'),
    state: join(dir, 'instance.json'),
    lock: join(dir, '.airy-bootstrap.lock'),
    /** The VM cluster's kubeconfig for the host (`airy-bootstrap kubeconfig`); it holds a client key: 0600. */
    kubeconfig: join(dir, 'kube.conf'),
  };
}

/** The cached box file for a checksum. */
export function cachedBox(cacheDir: string, sha256: string): string {
  return join(cacheDir, 'boxes', `${sha256}.box`);
}
