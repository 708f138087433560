/**
 * `airy-tunnel start`: checks the token and the upstream, starts the request-logging proxy, and supervises the
 * ngrok session; on every connect it prints the webhook URLs, writes them to the state file and (if asked) into
 * the cluster as the `public-urls` ConfigMap. SIGINT and SIGTERM stop it gracefully.
 */
import { webhookUrls } from '@airy/cli-kit';
import { type SourceStatus, sourcesOnUpstream, webhookLines } from './sources.js';
import { missingToken, upstreamDown } from './errors.js';
import { Deliveries } from './deliveries.js';
import { startInspector } from './inspector.js';
import { probeUpstream, replay, startProxy } from './proxy.js';
import type { SignatureSecrets } from './signatures.js';
import { redact, type TunnelState, type TunnelStatus, withoutCredentials, writeTunnelState } from '@airy/cli-kit';
import { applyConfigMap } from './publish-urls.js';
import { RequestLog } from './request-log.js';
import { type Clock, supervise, type TunnelDriver } from './supervisor.js';

/** Options of `start`. */
export interface StartOptions {
  readonly target: string;
  /** Run the proxy and the inspector without ngrok (another tunnel, or none). */
  readonly noNgrok?: boolean;
  /** The public URL another tunnel gives (with `noNgrok`): printed, in the state file and the ConfigMap. */
  readonly publicUrl?: string;
  readonly proxyPort?: number;
  readonly inspectorPort?: number;
  /** Provider secrets the inspector checks signatures with; never shown or stored. */
  readonly secrets?: SignatureSecrets;
  readonly domain?: string;
  readonly region?: string;
  readonly token: string | undefined;
  readonly files: { readonly state: string; readonly log: string };
  readonly kube?: { readonly context?: string; readonly namespace: string };
  readonly logBodies: boolean;
  /** Forward every path of the upstream, not only the webhook sources'. @default false */
  readonly forwardAll?: boolean;
  /** Seconds between upstream health probes. @default 15 */
  readonly healthEvery?: number;
  readonly driver?: TunnelDriver;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** Lines for the user (stdout: URLs) and for the log (stderr). */
  readonly print: (line: string) => void;
  readonly log: (line: string) => void;
}

/** Runs the tunnel until the signal; throws a TunnelError for the failures with their own exit codes. */
export async function start(options: StartOptions): Promise<TunnelStatus> {
  const token = options.token;
  if (!token && !options.noNgrok) throw missingToken();
  const upstreamPassword = decodeURIComponent(new URL(options.target).password);
  const secrets = [token, options.secrets?.facebookAppSecret, options.secrets?.twilioAuthToken, upstreamPassword || undefined];
  const say = (line: string) => options.log(redact(line, secrets));
  // What is shown and stored of the upstream and the public URL: never their credentials.
  const shownTarget = withoutCredentials(options.target);
  const first = await probeUpstream(options.target);
  if (!first.ok) throw upstreamDown(shownTarget, first.detail);
  // The public URL providers call, for Twilio's signature: --public-url, or the ngrok session's, as it connects.
  let publicUrl = options.publicUrl;

  const requests = new RequestLog(options.files.log);
  const deliveries = new Deliveries();
  const proxyOptions = {
    logBodies: options.logBodies,
    deliveries,
    secrets: options.secrets,
    publicUrl: () => publicUrl,
    forwardAll: options.forwardAll ?? false,
    ...(options.proxyPort !== undefined ? { port: options.proxyPort } : {}),
  };
  const proxy = await startProxy(options.target, requests, proxyOptions);
  const inspector = await startInspector({
    deliveries,
    proxyAddress: proxy.address,
    replay: (id) => replay(options.target, deliveries, id, proxyOptions, proxy.address),
    ...(options.inspectorPort !== undefined ? { port: options.inspectorPort } : {}),
  }).catch(async (error) => {
    await proxy.close();
    throw error;
  });
  options.print(`proxy: ${proxy.address}`);
  // The token in it is what lets the owner, and no other local user, read the inspector: it goes to their terminal
  // only, never to the state file or a log.
  options.print(`inspector: ${inspector.url}`);
  // Which sources the platform runs, asked once: a webhook URL of a source it does not run answers 404.
  const installed = await sourcesOnUpstream(options.target);
  const uninstalled = Object.entries(installed).filter(([, on]) => on === false).map(([source]) => source);
  if (options.noNgrok) {
    try {
      const upstream = { healthy: true, detail: first.detail, checkedAt: new Date().toISOString() };
      return await runWithoutNgrok(options, shownTarget, proxy.address, inspector.address, upstream, installed, say);
    } finally {
      await inspector.close();
      await proxy.close();
    }
  }
  const driver = options.driver;
  if (!driver || !token) throw missingToken();
  let upstream: TunnelState['upstream'] = { healthy: true, detail: first.detail, checkedAt: new Date().toISOString() };
  let current: TunnelStatus | undefined;
  // Saves run one after another, each writing the newest state.
  let saving = Promise.resolve();
  const save = () => {
    saving = saving.then(async () => {
      if (!current) return;
      const webhooks = current.url ? webhookUrls(current.url) : {};
      await writeTunnelState(options.files.state, { ...current, pid: process.pid, target: shownTarget, webhooks, uninstalled, upstream, inspector: inspector.address }).catch(
        () => undefined,
      );
    });
    return saving;
  };
  const health = setInterval(async () => {
    const probe = await probeUpstream(options.target);
    if (probe.ok !== upstream?.healthy) say(`upstream ${shownTarget}: ${probe.ok ? 'answering again' : `not answering (${probe.detail})`}`);
    upstream = { healthy: probe.ok, detail: probe.detail, checkedAt: new Date().toISOString() };
    await save();
  }, (options.healthEvery ?? 15) * 1000);
  let lastUrl: string | undefined;
  try {
    return await supervise(
      driver,
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
            publicUrl = status.url;
            if (status.url !== lastUrl) {
              lastUrl = status.url;
              options.print(`public URL: ${status.url}`);
              for (const line of webhookLines(webhookUrls(status.url), installed)) options.print(line);
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
    await inspector.close();
    await proxy.close();
    await save();
  }
}

/**
 * `--no-ngrok`: the proxy and the inspector alone, until the signal. The webhook URLs are the public URL another
 * tunnel gives (`--public-url`), else the proxy's own address; they go to the state file and, if asked, the
 * ConfigMap.
 */
async function runWithoutNgrok(
  options: StartOptions,
  /** The upstream as shown and stored (no credentials). */
  target: string,
  proxyAddress: string,
  inspectorAddress: string,
  upstream: NonNullable<TunnelState['upstream']>,
  installed: SourceStatus,
  say: (line: string) => void,
): Promise<TunnelStatus> {
  const url = withoutCredentials(options.publicUrl ?? proxyAddress);
  const status: TunnelStatus = { state: 'online', url, startedAt: options.clock.now(), onlineSince: options.clock.now(), reconnects: 0 };
  const webhooks = webhookUrls(url);
  options.print(`${options.publicUrl ? 'public URL (your tunnel)' : 'local URL (no public tunnel)'}: ${url}`);
  for (const line of webhookLines(webhooks, installed)) options.print(line);
  const uninstalled = Object.entries(installed).filter(([, on]) => on === false).map(([source]) => source);
  await writeTunnelState(options.files.state, { ...status, pid: process.pid, target, webhooks, uninstalled, upstream, inspector: inspectorAddress });
  if (options.kube && options.publicUrl) {
    await applyConfigMap(options.kube.context, options.kube.namespace, url).then(
      () => say(`wrote the public-urls ConfigMap in namespace ${options.kube?.namespace}`),
      (error: Error) => say(`could not write the public-urls ConfigMap: ${error.message}`),
    );
  }
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    else options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const stopped: TunnelStatus = { ...status, state: 'stopped' };
  await writeTunnelState(options.files.state, { ...stopped, pid: process.pid, target, webhooks, upstream, inspector: inspectorAddress });
  return stopped;
}
