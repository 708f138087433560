/**
 * An instance as its user sees it: its URLs (public webhook URLs while the tunnel is online), the welcome text, and
 * the readiness probes with the runner that reaches a real VM. Used by the default command, status and upgrade.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { defaultTunnelDir, enableSourceHint, readTunnelState, type TunnelState, tunnelFiles } from '@airy/cli-kit';
import { BOX_FACTS } from './box-facts.js';
import type { InstanceState } from './instance.js';
import { platformProbes, type ProbeRunner } from './readiness.js';
import { sshExec } from './vagrant.js';
import { DEFAULT_IP, DEFAULT_PORTS, HOST_NAME } from './vagrantfile.js';

/**
 * The URLs a user needs. Webhooks go to the public tunnel URLs while `airy-tunnel` is online (its state file says
 * so), else to the local paths, which only the tunnel makes reachable for Facebook, Google and Twilio.
 */
export function instanceUrls(tunnel?: TunnelState, ports = DEFAULT_PORTS) {
  const base = `http://${HOST_NAME}`;
  const online = tunnel?.state === 'online' && Object.keys(tunnel.webhooks).length > 0;
  return {
    ui: `${base}${BOX_FACTS.paths.ui}`,
    inbox: `${base}${BOX_FACTS.paths.inbox}`,
    /** The release's API is at the root: POST /conversations.list, /channels.list, … */
    api: `${base}/`,
    webhooks: online ? { ...tunnel.webhooks } : Object.fromEntries(BOX_FACTS.webhooks.map((s) => [s.source, `${base}${s.path}`])),
    tunnel: online ? ('online' as const) : ('off' as const),
    /** The webhook inspector, while the tunnel runs. */
    ...(online && tunnel.inspector ? { inspector: tunnel.inspector } : {}),
    forwarded: `http://127.0.0.1:${ports.http}/ (send Host: ${HOST_NAME})`,
  };
}

/** The tunnel's state, if `airy-tunnel` has run on this machine (its default folder). */
export function currentTunnel(): Promise<TunnelState | undefined> {
  return readTunnelState(tunnelFiles(defaultTunnelDir()).state);
}

/** The probe runner of a real instance: exec over vagrant ssh, HTTP from the host. */
export function instanceRunner(dir: string): ProbeRunner {
  return {
    exec: (command) => sshExec(dir, command),
    http: async ({ url, host, method = 'GET', body }) => {
      const { request } = await import('node:http');
      return new Promise((resolve) => {
        const headers = { Host: host, ...(body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }) };
        const req = request(url, { method, headers, timeout: 5000 }, (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.on('error', () => resolve(undefined));
        req.on('timeout', () => req.destroy());
        req.end(body);
      });
    },
    now: () => Date.now(),
    sleep: (ms) => delay(ms),
  };
}

/** Probes of an instance: the box's platform (namespace, database), from the box's facts. */
export function instanceProbes(privateNetwork: boolean) {
  return platformProbes({
    namespace: BOX_FACTS.namespace,
    database: BOX_FACTS.postgres.database,
    ingressUrl: privateNetwork ? `http://${DEFAULT_IP}/` : `http://127.0.0.1:${DEFAULT_PORTS.http}/`,
    host: HOST_NAME,
  });
}

/** Where everything is, as printed when the platform is up; `hostsReady` when the host name resolves. Pure. */
export function welcomeText(
  state: InstanceState,
  dir: string,
  tunnel?: TunnelState,
  hostsReady = false,
  sources: readonly { source: string; secret: string; installed: boolean }[] = BOX_FACTS.webhooks,
): string {
  const urls = instanceUrls(tunnel);
  const webhookNote = urls.tunnel === 'online' ? '(public, through airy-tunnel)' : '(make it public with airy-tunnel start)';
  // A source's path is routed only when the source runs: a URL that answers 404 is said to be one.
  const webhookLine = (source: string, url: string) => {
    const fact = sources.find((w) => w.source === source);
    return fact && !fact.installed
      ? `  webhook   ${source}: ${url} (not installed in this box, answers 404; on a cluster of your own: ${enableSourceHint(fact)})`
      : `  webhook   ${source}: ${url} ${webhookNote}`;
  };
  return [
    `Airy Core ${state.version} is running (${state.provider}, ${state.cpus} CPUs, ${state.memoryMiB} MiB).`,
    '',
    `  UI        ${urls.ui}`,
    `  inbox     ${urls.inbox}`,
    `  API       ${urls.api} (POST /conversations.list, /channels.list, …)`,
    ...Object.entries(urls.webhooks).map(([source, url]) => webhookLine(source, url)),
    ...(urls.inspector ? [`  inspector ${urls.inspector} (every webhook delivery, its signature, replay)`] : []),
    `  also      ${urls.forwarded}`,
    '',
    ...(hostsReady
      ? []
      : state.privateNetwork
        ? [`${HOST_NAME} must resolve to ${DEFAULT_IP}: add "${DEFAULT_IP} ${HOST_NAME}" to your hosts file (or run airy-bootstrap again).`]
        : [`Without the private network, use the forwarded address above (send Host: ${HOST_NAME}).`]),
    `kubectl:  eval "$(airy-bootstrap kubeconfig)" && kubectl -n ${BOX_FACTS.namespace} get pods`,
    `          (or inside the VM: cd ${dir} && vagrant ssh -c "kubectl -n ${BOX_FACTS.namespace} get pods")`,
    'next:     airy-bootstrap status | stop | start | upgrade | backup | restore | destroy | doctor',
    '',
  ].join('\n');
}

