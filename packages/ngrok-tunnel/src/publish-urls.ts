/**
 * Telling the world the public URLs: the `public-urls` ConfigMap through which the platform knows its own public
 * address. (The state file that `status` and airy-bootstrap read is @airy/cli-kit's tunnel-state.)
 */
import { type WebhookSource, WEBHOOK_SOURCES, webhookUrls } from '@airy/cli-kit';
import { stringify } from 'yaml';
import { $ } from 'zx';

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
