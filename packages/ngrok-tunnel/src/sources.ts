/**
 * Which webhook sources the platform behind the tunnel runs: sources are optional (as in the release), and the
 * ingress routes a source's path only when it runs, so its public URL would answer 404. Asked of the upstream
 * itself, not believed from a list: a GET of each source's path.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { enableSourceHint, WEBHOOK_SOURCES, type WebhookSource } from '@airy/cli-kit';

/** Per source: `true` routed, `false` answered 404 (not installed), `undefined` not known (no answer). */
export type SourceStatus = Readonly<Record<string, boolean | undefined>>;

/** GETs each source's path on `target` at once; a 404 means the platform does not run that source. */
export async function sourcesOnUpstream(target: string, sources: readonly WebhookSource[] = WEBHOOK_SOURCES, timeoutMs = 5000): Promise<SourceStatus> {
  const answers = await Promise.all(
    sources.map(
      (s) =>
        new Promise<[string, boolean | undefined]>((resolve) => {
          const url = new URL(s.path, target);
          const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
          const req = send(url, { method: 'GET', timeout: timeoutMs }, (res) => {
            res.resume();
            resolve([s.source, res.statusCode === undefined ? undefined : res.statusCode !== 404]);
          });
          req.on('timeout', () => req.destroy());
          req.on('error', () => resolve([s.source, undefined]));
          req.end();
        }),
    ),
  );
  return Object.fromEntries(answers);
}

/** The printed lines of the webhook URLs, each source said to be installed or not, and how to turn it on. Pure. */
export function webhookLines(webhooks: Readonly<Record<string, string>>, status: SourceStatus = {}, sources = WEBHOOK_SOURCES): string[] {
  return Object.entries(webhooks).map(([source, url]) => {
    const known = sources.find((s) => s.source === source);
    if (status[source] !== false || !known) return `  ${source.padEnd(9)} ${url}`;
    return `  ${source.padEnd(9)} ${url}  (not installed: the platform answers 404 on ${known.path}; to turn it on, ${enableSourceHint(known)})`;
  });
}
