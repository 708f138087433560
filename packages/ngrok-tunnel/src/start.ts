/**
 * `airy-tunnel start`: checks the token and the upstream, starts the request-logging proxy, and supervises the
 * ngrok session; on every connect it prints the webhook URLs, writes them to the state file and (if asked) into
 * the cluster as the `public-urls` ConfigMap. SIGINT and SIGTERM stop it gracefully.
 */
import { webhookUrls } from '@airy/manifests';
import { missingToken, upstreamDown } from './errors.js';
import { probeUpstream, startProxy } from './proxy.js';
import { redact, type TunnelState, type TunnelStatus, writeTunnelState } from '@airy/cli-kit';
import { applyConfigMap } from './publish-urls.js';
import { RequestLog } from './request-log.js';
import { type Clock, supervise, type TunnelDriver } from './supervisor.js';

/** Options of `start`. */
export interface StartOptions {
  readonly target: string;
  readonly domain?: string;
  readonly region?: string;
  readonly token: string | undefined;
  readonly files: { readonly state: string; readonly log: string };
  readonly kube?: { readonly context?: string; readonly namespace: string };
  readonly logBodies: boolean;
  /** Seconds between upstream health probes. @default 15 */
  readonly healthEvery?: number;
  readonly driver: TunnelDriver;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** Lines for the user (stdout: URLs) and for the log (stderr). */
  readonly print: (line: string) => void;
  readonly log: (line: string) => void;
}

/** Runs the tunnel until the signal; throws a TunnelError for the failures with their own exit codes. */
export async function start(options: StartOptions): Promise<TunnelStatus> {
  const token = options.token;
  if (!token) throw missingToken();
  const say = (line: string) => options.log(redact(line, [token]));
  const first = await probeUpstream(options.target);
  if (!first.ok) throw upstreamDown(options.target, first.detail);

  const requests = new RequestLog(options.files.log);
  const proxy = await startProxy(options.target, requests, { logBodies: options.logBodies });
  let upstream: TunnelState['upstream'] = { healthy: true, detail: first.detail, checkedAt: new Date().toISOString() };
  let current: TunnelStatus | undefined;
  // Saves run one after another, each writing the newest state.
  let saving = Promise.resolve();
  const save = () => {
    saving = saving.then(async () => {
      if (!current) return;
      const webhooks = current.url ? webhookUrls(current.url) : {};
      await writeTunnelState(options.files.state, { ...current, pid: process.pid, target: options.target, webhooks, upstream }).catch(() => undefined);
    });
    return saving;
  };
  const health = setInterval(async () => {
    const probe = await probeUpstream(options.target);
    if (probe.ok !== upstream?.healthy) say(`upstream ${options.target}: ${probe.ok ? 'answering again' : `not answering (${probe.detail})`}`);
    upstream = { healthy: probe.ok, detail: probe.detail, checkedAt: new Date().toISOString() };
    await save();
  }, (options.healthEvery ?? 15) * 1000);
  let lastUrl: string | undefined;
  try {
    return await supervise(
      options.driver,
      options.clock,
      {
        token,
        domain: options.domain,
        region: options.region,
        forwardTo: proxy.address,
        onStatus: (status) => {
          current = status;
          void save();
          if (status.state === 'online' && status.url) {
            if (status.url !== lastUrl) {
              lastUrl = status.url;
              options.print(`public URL: ${status.url}`);
              for (const [source, url] of Object.entries(webhookUrls(status.url))) options.print(`  ${source.padEnd(9)} ${url}`);
              if (options.kube) {
                applyConfigMap(options.kube.context, options.kube.namespace, status.url).then(
                  () => say(`wrote the public-urls ConfigMap in namespace ${options.kube?.namespace}`),
                  (error: Error) => say(`could not write the public-urls ConfigMap: ${error.message}`),
                );
              }
            } else say(`reconnected: ${status.url}`);
          } else if (status.state === 'reconnecting') say(`session dropped (${status.lastError ?? 'unknown'}); reconnect ${status.reconnects}`);
        },
      },
      options.signal,
    );
  } finally {
    clearInterval(health);
    await proxy.close();
    await save();
  }
}
