/**
 * The box's own first boot against Kubernetes' own control plane: images/scripts/provisioning.sh and lifecycle.sh,
 * the very files the box runs, with the real kubectl, on one simulated node sized as the box's VM (its allocatable
 * as the kubelet computes it from the box's --system-reserved), with Kubernetes' own pods on it as kubeadm makes
 * them. Then the fit as the scheduler sees it, against the model's, and bootstrap's readiness probe.
 */
import { copyFileSync, chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BOX_PLATFORM_OPTIONS, boxFacts, boxFactsEnv, boxFiles, formatTotals, nodeBudget, systemReserved } from '@airy/manifests';
import { platformProbes, runProbe } from '@airy/bootstrap';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, kubeSystemPods, timeEach, type Obj, repo, scratch, startCluster, type TestCluster, unschedulable } from './harness.ts';

const facts = boxFacts();
const NODE = 'airy-core-1';
let cluster: TestCluster;
let deployments: string;
let env: NodeJS.ProcessEnv;
timeEach(test);

test.before(async () => {
  cluster = await startCluster('box', {
    nodes: 1,
    namePrefix: 'airy-core',
    cpu: String(facts.vm.cpus),
    memory: `${facts.vm.memoryMiB}Mi`,
    systemReserved: systemReserved(),
    serviceNodePortRange: facts.ports.nodePortRange,
  });
  await kubeSystemPods(cluster, NODE);
  const work = scratch(cluster, 'box');
  deployments = join(work, 'deployments');
  const files = boxFiles();
  scratch(cluster, 'box/deployments');
  for (const [name, text] of files) writeFileSync(join(deployments, name), text);
  const lifecycle = join(work, 'airy-lifecycle');
  copyFileSync(join(repo, 'images', 'scripts', 'lifecycle.sh'), lifecycle);
  chmodSync(lifecycle, 0o755);
  const factsFile = join(work, 'airy.env');
  writeFileSync(factsFile, boxFactsEnv({ ...facts, lifecycle, ngrok: { ...facts.ngrok, tokenFile: join(work, 'no-token') } }));
  env = { AIRY_FACTS: factsFile, AIRY_DEPLOYMENTS: deployments, AIRY_USER: 'airy-no-such-user', AIRY_RETRY_DELAY: '1', AIRY_START_TIMEOUT: '3m' };
});

test.after(async () => {
  await cluster?.stop();
});

const provisioning = () => cluster.run('bash', [join(repo, 'images', 'scripts', 'provisioning.sh')], env);

/** Workloads and what they own, as a map from kind/name to generation (specs) and resourceVersion (the rest). */
async function snapshot(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const kind of ['deployments', 'statefulsets', 'services', 'configmaps', 'secrets', 'networkpolicies', 'poddisruptionbudgets', 'serviceaccounts']) {
    for (const o of await cluster.items([kind, '-n', facts.namespace])) {
      const spec = kind === 'deployments' || kind === 'statefulsets';
      out.set(`${o.kind}/${o.metadata.name}`, spec ? `generation ${o.metadata.generation}` : `resourceVersion ${o.metadata.resourceVersion}`);
    }
  }
  return out;
}

let first: { code: number; stdout: string; stderr: string };

test('provisioning.sh applies the box platform: exit 0, every pod scheduled, every workload rolled out', async () => {
  first = await provisioning();
  assert.is(first.code, 0, `${first.stdout}\n${first.stderr}`);
  assert.equal(await unschedulable(cluster, facts.namespace), [], 'no pod Pending for lack of CPU or memory');
  assert.equal(await unschedulable(cluster, 'istio-system'), []);
  assert.equal(await unschedulable(cluster, 'kube-system'), []);
  const workloads = [...(await cluster.items(['deployments', '-n', facts.namespace])), ...(await cluster.items(['statefulsets', '-n', facts.namespace]))];
  assert.ok(workloads.length >= 8, `${workloads.length} workloads`);
  const ready = async () => {
    const now = [...(await cluster.items(['deployments', '-n', facts.namespace])), ...(await cluster.items(['statefulsets', '-n', facts.namespace]))];
    return now.every((w) => (w.status?.readyReplicas ?? 0) === (w.spec?.replicas ?? 1));
  };
  assert.ok(await eventually(60, ready), 'every Deployment and StatefulSet has its replicas ready');
});

test('the topics Job completed before any app was applied', async () => {
  const jobs = await cluster.items(['jobs', '-n', facts.namespace]);
  assert.ok(jobs.length > 0, 'the box has a topics Job');
  const apps = await cluster.items(['deployments', '-n', facts.namespace, '-l', facts.apps.selector]);
  assert.ok(apps.length > 0, 'the release apps are applied');
  const firstApp = Math.min(...apps.map((a) => Date.parse(a.metadata.creationTimestamp ?? '')));
  for (const job of jobs) {
    assert.ok(job.status?.completionTime, `${job.metadata.name} completed`);
    // The API server's timestamps are whole seconds: completed no later than the first app's second.
    assert.ok(Date.parse(job.status.completionTime) <= firstApp, `${job.metadata.name} completed ${job.status.completionTime}, an app was made ${apps[0]?.metadata.creationTimestamp}`);
  }
  const order = [...first.stdout.matchAll(/\[airy\] applying (\S+)/g)].map((m) => m[1]);
  assert.ok(order.indexOf('topics.yaml') < order.indexOf('airy-core.yaml'), order.join(' '));
});

test('a second run (a reboot) changes nothing and converges', async () => {
  const before = await snapshot();
  const again = await provisioning();
  assert.is(again.code, 0, `${again.stdout}\n${again.stderr}`);
  const after = await snapshot();
  const changed = [...after].filter(([k, v]) => before.get(k) !== v).map(([k, v]) => `${k}: ${before.get(k)} → ${v}`);
  assert.equal(changed, [], 'no workload spec and no other object changed');
  assert.match(again.stdout, /Istio: istio-ingressgateway is ready/, 'Istio is judged by its gateway, not installed again');
  assert.equal(await unschedulable(cluster, facts.namespace), []);
});

/** `kubectl describe node`'s "Allocated resources": Kubernetes' own sum of the requests of the node's running pods. */
async function allocated(node: string): Promise<{ cpu: string; memory: string }> {
  const text = await cluster.kubectl(['describe', 'node', node]);
  const section = text.slice(text.indexOf('Allocated resources:'));
  const value = (resource: string) => new RegExp(`^\\s+${resource}\\s+(\\S+)`, 'm').exec(section)?.[1] ?? '?';
  return { cpu: value('cpu'), memory: value('memory') };
}

test('the fit as Kubernetes sees it equals the model: requests against allocatable on the box node', async () => {
  const node = (await cluster.items(['nodes'])).find((n) => n.metadata.name === NODE) as Obj;
  const seen = await allocated(NODE);
  const budget = nodeBudget(BOX_PLATFORM_OPTIONS, facts.vm);
  const model = { allocatable: formatTotals(budget.allocatable), requested: formatTotals(budget.requests.total) };
  const k8s = { allocatable: { cpu: node.status.allocatable.cpu, memory: node.status.allocatable.memory }, requested: seen };
  const rows = [
    ['', 'Kubernetes (scheduler, kubelet)', 'airy-manifests resources'],
    ['allocatable cpu', k8s.allocatable.cpu, model.allocatable.cpu],
    ['allocatable memory', k8s.allocatable.memory, model.allocatable.memory],
    ['requested cpu', k8s.requested.cpu, model.requested.cpu],
    ['requested memory', k8s.requested.memory, model.requested.memory],
  ];
  console.log(`\n  the box node (${facts.vm.cpus} CPUs, ${facts.vm.memoryMiB} MiB):`);
  for (const r of rows) console.log(`  ${(r[0] ?? '').padEnd(20)}${(r[1] ?? '').padEnd(34)}${r[2]}`);
  // Kubernetes prints what it sums in its own units: compare as numbers.
  const cpu = (q: string) => (q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000);
  const mem = (q: string) => {
    const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(q);
    return m ? Number(m[1]) * ({ Ki: 1024, Mi: 2 ** 20, Gi: 2 ** 30 }[m[2] ?? ''] ?? 1) : Number.NaN;
  };
  assert.is(cpu(k8s.allocatable.cpu), budget.allocatable.cpuMillicores, 'allocatable CPU');
  assert.is(mem(k8s.allocatable.memory), budget.allocatable.memoryBytes, 'allocatable memory');
  assert.is(cpu(k8s.requested.cpu), budget.requests.total.cpuMillicores, 'requested CPU');
  assert.is(mem(k8s.requested.memory), budget.requests.total.memoryBytes, 'requested memory');
});

test("bootstrap's apps probe: not ready while a release app's pod is not, though Kubernetes calls it Available; ready once it is", async () => {
  const probe = platformProbes({ namespace: facts.namespace, database: facts.postgres.database, ingressUrl: 'http://127.0.0.1:1/', host: facts.host }).find((p) => p.name === 'apps');
  assert.ok(probe, 'bootstrap has an apps probe');
  // The probe's command runs in the VM; here the same command runs with this cluster's kubectl.
  const runner = {
    exec: async (command: string) => {
      const r = await cluster.run('bash', ['-c', command]);
      return { ok: r.code === 0, stdout: r.stdout, stderr: r.stderr };
    },
    http: async () => undefined,
    now: () => Date.now(),
    sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  };
  const after = await runProbe(probe, runner);
  assert.ok(after.ready, `after provisioning, the apps are ready: ${after.detail}`);
  // An app of one replica with maxUnavailable 1 (the release's own strategy) whose pod cannot be placed: Kubernetes
  // calls it Available (0 of 1 may be unavailable), which is what the probe must not believe.
  const name = 'readiness-check';
  const [key, value] = facts.apps.selector.split('=') as [string, string];
  const labels = { [key]: value, 'app.kubernetes.io/name': name };
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: facts.namespace, labels },
    spec: {
      replicas: 1,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      template: {
        metadata: { labels },
        spec: { nodeSelector: { 'airy.test/no-such-node': 'true' }, containers: [{ name, image: 'registry.invalid/none:1' }] },
      },
    },
  };
  await cluster.kubectl(['apply', '-f', '-'], JSON.stringify(deployment));
  const condition = async () => {
    const d = JSON.parse(await cluster.kubectl(['-n', facts.namespace, 'get', 'deployment', name, '-o', 'json'])) as Obj;
    return { available: (d.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Available')?.status, ready: d.status?.readyReplicas ?? 0 };
  };
  assert.ok(await eventually(30, async () => (await condition()).available === 'True'), 'Kubernetes: Available with no pod ready');
  assert.is((await condition()).ready, 0);
  const held = await runProbe(probe, runner);
  assert.not.ok(held.ready, held.detail);
  assert.match(held.detail, name, 'the probe names the app that is not ready');
  console.log(`  ${name}: Available=True with 0/1 ready; the probe says: ${held.detail}`);
  await cluster.kubectl(['-n', facts.namespace, 'patch', 'deployment', name, '--type=json', '-p', JSON.stringify([{ op: 'remove', path: '/spec/template/spec/nodeSelector' }])]);
  assert.ok(await eventually(60, async () => (await runProbe(probe, runner)).ready), 'ready once its pod is');
  await cluster.kubectl(['-n', facts.namespace, 'delete', 'deployment', name, '--wait=true']);
});

test.run();
