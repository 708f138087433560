/**
 * Readiness of the platform itself, not just the VM: the Kafka broker answers, the Schema Registry's /subjects
 * returns 200, PostgreSQL is ready, the Istio ingress answers for airy.core, the release's app tier is rolled
 * out, and its API answers through the ingress (`POST /client.config` is 200, which needs api-admin's Kafka
 * Streams stores running). The probes are data (names and commands come from the box's facts); running them goes
 * through a narrow interface, so tests can drive time.
 */
import { BOX_FACTS } from './box-facts.js';

const { apps: APPS, kafka: KAFKA, postgres: POSTGRES, schemaRegistry: SCHEMA_REGISTRY } = BOX_FACTS;

/**
 * How long `--wait` waits by default, in seconds. A VM's first boot (a new instance, an upgrade) runs kubeadm init,
 * Istio, the data tier, the topics Job and the apps: about 12 to 18 minutes estimated on 4 vCPUs, so 30 leaves room
 * for a slower laptop. A later boot (`start`) finds all of it made and only starts it.
 */
export const WAIT_DEFAULTS = { firstBoot: 30 * 60, boot: 20 * 60 } as const;

/** An HTTP request a probe makes from the host. */
export interface ProbeRequest {
  readonly url: string;
  readonly host: string;
  readonly method?: string;
  readonly body?: string;
}

/**
 * A check run inside the VM (via `vagrant ssh`), or an HTTP request from the host: `status` is the one answer
 * that passes; without it any answer below 500 does (the gateway is up and routes the host). An exec probe passes
 * when its command succeeds and its output ends with `expect`, or, with `judge`, when the judge says so.
 */
export type Probe =
  | {
      readonly name: string;
      readonly kind: 'exec';
      readonly command: string;
      readonly expect?: string;
      readonly judge?: (stdout: string) => { ready: boolean; detail: string };
    }
  | ({ readonly name: string; readonly kind: 'http'; readonly status?: number } & ProbeRequest);

/** The platform's probes, in the order a user cares about them. */
export function platformProbes(options: { namespace: string; database: string; ingressUrl: string; host: string }): Probe[] {
  const ns = options.namespace;
  return [
    {
      name: 'kafka',
      kind: 'exec',
      // With a heap of its own: the tool would otherwise take the broker's KAFKA_HEAP_OPTS in the same container.
      command: `kubectl -n ${ns} exec ${KAFKA.component}-0 -- env KAFKA_HEAP_OPTS=${KAFKA.clientHeap} kafka-broker-api-versions --bootstrap-server localhost:${KAFKA.port}`,
    },
    {
      name: 'schema-registry',
      kind: 'exec',
      command: `kubectl -n ${ns} exec deploy/${SCHEMA_REGISTRY.component} -- curl -s -o /dev/null -w '%{http_code}' http://localhost:${SCHEMA_REGISTRY.port}/subjects`,
      expect: '200',
    },
    {
      name: 'postgres',
      kind: 'exec',
      command: `kubectl -n ${ns} exec ${POSTGRES.component}-0 -- pg_isready -h 127.0.0.1 -d ${options.database}`,
    },
    { name: 'ingress', kind: 'http', url: options.ingressUrl, host: options.host },
    {
      name: 'apps',
      kind: 'exec',
      // Not the Available condition: a Deployment of one replica with maxUnavailable 1 is Available with no pod ready.
      command: `kubectl -n ${ns} get deployment -l ${APPS.selector} -o json`,
      judge: (stdout) => judgeRollout(stdout, APPS.selector),
    },
    {
      name: 'api',
      kind: 'http',
      url: new URL(APPS.api.path, options.ingressUrl).href,
      host: options.host,
      method: APPS.api.method,
      body: APPS.api.body,
      status: APPS.api.status,
    },
  ];
}

/** A Deployment's counts, as `kubectl get deployment -o json` gives them (absent counts are 0). */
interface DeploymentCounts {
  readonly metadata?: { readonly name?: string; readonly generation?: number };
  readonly spec?: { readonly replicas?: number };
  readonly status?: {
    readonly observedGeneration?: number;
    readonly replicas?: number;
    readonly updatedReplicas?: number;
    readonly readyReplicas?: number;
    readonly availableReplicas?: number;
  };
}

/**
 * Whether every Deployment of a `kubectl get deployment -o json` list is rolled out with its pods ready: the
 * controller has seen the latest spec, and the updated, ready and available pods are as many as wanted with no old
 * pod left (what `kubectl rollout status` waits for, plus readiness). No Deployment at all is not ready. Pure.
 */
export function judgeRollout(stdout: string, selector: string): { ready: boolean; detail: string } {
  let items: DeploymentCounts[];
  try {
    const list = JSON.parse(stdout) as { items?: unknown };
    items = Array.isArray(list?.items) ? (list.items as DeploymentCounts[]) : [];
  } catch {
    return { ready: false, detail: 'kubectl gave no list of Deployments' };
  }
  if (items.length === 0) return { ready: false, detail: `no Deployments labelled ${selector} yet` };
  const behind: string[] = [];
  for (const d of items) {
    const wanted = d.spec?.replicas ?? 1;
    const s = d.status ?? {};
    const [ready, updated, available, all] = [s.readyReplicas, s.updatedReplicas, s.availableReplicas, s.replicas].map((n) => n ?? 0) as [number, number, number, number];
    const seen = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
    if (seen && ready >= wanted && updated >= wanted && available >= wanted && all <= updated) continue;
    // Names come from the cluster: Kubernetes keeps them DNS labels, and anything else is not printed as is.
    const name = /^[a-z0-9]([-a-z0-9]{0,251}[a-z0-9])?$/.test(d.metadata?.name ?? '') ? d.metadata?.name : '?';
    behind.push(seen && all <= updated ? `${name} ${Math.min(ready, updated)}/${wanted}` : `${name} rolling out`);
  }
  if (behind.length === 0) return { ready: true, detail: `${items.length} of ${items.length} ready` };
  const shown = behind.slice(0, 3).join(', ') + (behind.length > 3 ? `, +${behind.length - 3} more` : '');
  return { ready: false, detail: `${items.length - behind.length} of ${items.length} ready; waiting for ${shown}` };
}

/** How probes are run: exec inside the VM, HTTP from the host. Both resolve to whether the probe passed. */
export interface ProbeRunner {
  exec(command: string): Promise<{ ok: boolean; stdout: string; stderr?: string }>;
  http(request: ProbeRequest): Promise<number | undefined>;
  /** Milliseconds since some fixed point. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** One probe's state. */
export interface ProbeState {
  readonly name: string;
  readonly ready: boolean;
  readonly detail: string;
}

/** Runs one probe once. */
export async function runProbe(probe: Probe, runner: ProbeRunner): Promise<ProbeState> {
  if (probe.kind === 'http') {
    const { name, kind: _kind, status: wanted, ...request } = probe;
    const status = await runner.http(request).catch(() => undefined);
    const ready = status !== undefined && (wanted === undefined ? status < 500 : status === wanted);
    const what = `${request.method ?? 'GET'} ${new URL(request.url).pathname}`;
    return { name, ready, detail: status === undefined ? `${what}: no answer` : ready ? `${what}: HTTP ${status}` : `${what}: HTTP ${status}${wanted ? `, not ${wanted}` : ''}` };
  }
  const out = await runner.exec(probe.command).catch(() => ({ ok: false, stdout: '', stderr: '' }));
  // Why not: the command's last word on it, from stdout or else stderr (e.g. "pod airy/kafka-0 not found").
  const last = (text = '') => text.trim().split('\n').at(-1)?.trim();
  if (probe.judge && out.ok) return { name: probe.name, ...probe.judge(out.stdout) };
  const ready = out.ok && probe.judge === undefined && (probe.expect === undefined || out.stdout.trim().endsWith(probe.expect));
  return { name: probe.name, ready, detail: ready ? 'ready' : last(out.stdout) || last(out.stderr) || 'not ready' };
}

/** Polls every probe until all are ready or `timeoutMs` passes; `onChange` sees each state change. */
export async function waitReady(
  probes: readonly Probe[],
  runner: ProbeRunner,
  options: { timeoutMs: number; intervalMs: number; onChange?: (state: ProbeState) => void },
): Promise<{ ready: boolean; states: ProbeState[] }> {
  const deadline = runner.now() + options.timeoutMs;
  const states = new Map<string, ProbeState>(probes.map((p) => [p.name, { name: p.name, ready: false, detail: 'waiting' }]));
  for (;;) {
    const pending = probes.filter((p) => !states.get(p.name)?.ready);
    const results = await Promise.all(pending.map((p) => runProbe(p, runner)));
    for (const r of results) {
      const before = states.get(r.name);
      states.set(r.name, r);
      if (before?.ready !== r.ready || before?.detail !== r.detail) options.onChange?.(r);
    }
    const all = [...states.values()];
    if (all.every((s) => s.ready)) return { ready: true, states: all };
    if (runner.now() >= deadline) return { ready: false, states: all };
    await runner.sleep(Math.min(options.intervalMs, Math.max(0, deadline - runner.now())));
  }
}
