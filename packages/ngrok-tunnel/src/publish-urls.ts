/**
 * Telling the world the public URLs: the per-source webhook URLs, the state file `status` reads, and the
 * `public-urls` ConfigMap through which the platform knows its own public address.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type WebhookSource, WEBHOOK_SOURCES, webhookUrls } from '@airy/manifests';
import { stringify } from 'yaml';
import { $ } from 'zx';
import type { TunnelStatus } from './supervisor.js';

/** The name of the ConfigMap. */
export const PUBLIC_URLS_CONFIGMAP = 'public-urls';

/** The `public-urls` ConfigMap for a public URL. Pure. */
export function publicUrlsConfigMap(namespace: string, publicUrl: string, sources: readonly WebhookSource[] = WEBHOOK_SOURCES) {
  const urls = webhookUrls(publicUrl, sources);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: PUBLIC_URLS_CONFIGMAP, namespace, labels: { 'app.kubernetes.io/part-of': 'airy-core', 'app.kubernetes.io/managed-by': 'airy-tunnel' } },
    data: {
      PUBLIC_URL: publicUrl,
      ...Object.fromEntries(Object.entries(urls).map(([source, url]) => [`WEBHOOK_${source.toUpperCase()}_URL`, url])),
    },
  };
}

/** Applies the ConfigMap with kubectl to a context and namespace. */
export async function applyConfigMap(context: string | undefined, namespace: string, publicUrl: string): Promise<void> {
  const yaml = stringify(publicUrlsConfigMap(namespace, publicUrl));
  const contextArgs = context ? ['--context', context] : [];
  const out = await $({ input: yaml, quiet: true, nothrow: true })`kubectl ${contextArgs} --namespace ${namespace} apply -f -`;
  if (out.exitCode !== 0) throw new Error(`kubectl apply of the ${PUBLIC_URLS_CONFIGMAP} ConfigMap failed: ${out.stderr.trim().split('\n')[0]}`);
}

/** What the state file holds. */
export interface TunnelState extends TunnelStatus {
  readonly pid: number;
  readonly target: string;
  readonly webhooks: Readonly<Record<string, string>>;
  readonly upstream?: { readonly healthy: boolean; readonly detail: string; readonly checkedAt: string };
}

/** Writes the state file atomically. */
export async function writeState(path: string, state: TunnelState): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temp, path);
}

/** Reads the state file; a state whose process is gone is reported as stopped. */
export async function readState(path: string): Promise<TunnelState | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  const state = JSON.parse(text) as TunnelState;
  let alive = true;
  try {
    process.kill(state.pid, 0);
  } catch (error) {
    alive = (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return alive || state.state === 'stopped' || state.state === 'failed' ? state : { ...state, state: 'stopped' };
}
