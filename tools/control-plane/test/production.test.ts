/**
 * The manifests README's production path, its very block, run against Kubernetes' own control plane with three
 * simulated nodes: the production profile with TLS applied server-side as one ApplySet, spread by its
 * anti-affinity, its PodDisruptionBudgets accepted, nothing Pending; applied again with nothing changed; a changed
 * render (the KRaft → ZooKeeper switch and back) pruned without conflicts or immutable-field errors. And on a
 * cluster too small for it, the pods that cannot be placed, named with the scheduler's reason.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, type Obj, repo, scratch, startCluster, type TestCluster, timeEach, unschedulable } from './harness.ts';

timeEach(test);
const readme = readFileSync(join(repo, 'packages', 'manifests', 'README.md'), 'utf8');
const block = /<!-- production-path -->\n```sh\n([\s\S]*?)```\n<!-- \/production-path -->/.exec(readme)?.[1] ?? '';
/** The block's commands, continuation lines joined, comments left out; `npx airy-manifests` is the workspace's bin. */
const commands = block
  .replaceAll('\\\n', ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => l.replace(/^npx airy-manifests /, 'airy-manifests '));
const NAMESPACE = 'airy';

let cluster: TestCluster;
let work: string;

test.before(async () => {
  cluster = await startCluster('production', { nodes: 3, cpu: '4', memory: '16Gi' });
  work = scratch(cluster, 'production');
  // Step 3's certificate, as a user would have it: a key pair for the host, in the folder the block runs in.
  const tls = await cluster.run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(work, 'tls.key'), '-out', join(work, 'tls.crt'), '-days', '1', '-subj', '/CN=airy.example.com']);
  assert.is(tls.code, 0, tls.stderr);
});
test.after(async () => {
  await cluster?.stop();
});

/** Runs one line of the block in `work`, the workspace's bins on PATH. */
const step = (command: string) => cluster.run('bash', ['-c', `cd '${work}' && ${command}`], { PATH: `${cluster.env.PATH}:${join(repo, 'node_modules', '.bin')}` });

/** When kubectl's server-side apply last wrote each object of the kustomization: unchanged when nothing changed. */
async function appliedAt(): Promise<Map<string, string>> {
  const list = JSON.parse(await cluster.kubectl(['get', '-k', join(work, 'deploy'), '-o', 'json', '--show-managed-fields'])) as { items: Obj[] };
  return new Map(
    list.items.map((o) => {
      const fields = (o.metadata.managedFields ?? []) as { manager: string; operation: string; time: string }[];
      const apply = fields.find((f) => f.manager === 'kubectl' && f.operation === 'Apply');
      return [`${o.kind}/${o.metadata.name}`, apply?.time ?? 'never applied'];
    }),
  );
}

const applyCommand = () => commands.find((c) => c.includes('kubectl apply --server-side')) as string;

test('the README block runs step by step on three nodes: every step exits 0, nothing Pending', async () => {
  assert.ok(commands.length >= 8, commands.join('\n'));
  for (const command of commands) {
    const r = await step(command);
    assert.is(r.code, 0, `${command}\n${r.stdout}\n${r.stderr}`);
  }
  assert.equal(await unschedulable(cluster, NAMESPACE), [], 'every pod placed');
});

test('brokers and controllers are spread one to a node by their anti-affinity; the PodDisruptionBudgets are accepted', async () => {
  const pods = await cluster.items(['pods', '-n', NAMESPACE]);
  const sets = await cluster.items(['statefulsets', '-n', NAMESPACE]);
  const spread = sets.filter((s) => (s.spec.replicas ?? 1) > 1);
  assert.ok(spread.length >= 1, 'production runs a StatefulSet of several pods');
  for (const set of spread) {
    const own = pods.filter((p) => new RegExp(`^${set.metadata.name}-\\d+$`).test(p.metadata.name));
    const nodes = new Set(own.map((p) => p.spec.nodeName));
    assert.is(own.length, set.spec.replicas, `${set.metadata.name}: ${own.length} pods`);
    assert.is(nodes.size, own.length, `${set.metadata.name}: one pod a node (${[...nodes].join(', ')})`);
  }
  const budgets = await cluster.items(['poddisruptionbudgets', '-n', NAMESPACE]);
  assert.ok(budgets.length >= 1, 'production has PodDisruptionBudgets');
  assert.ok(
    await eventually(30, async () => (await cluster.items(['poddisruptionbudgets', '-n', NAMESPACE])).every((b) => b.status?.expectedPods > 0 && b.status?.disruptionsAllowed >= 1)),
    'each budget sees its pods and allows one down',
  );
});

test('applied again, nothing changes: server-side apply writes no object', async () => {
  const before = await appliedAt();
  const r = await step(applyCommand());
  assert.is(r.code, 0, r.stderr);
  const after = await appliedAt();
  assert.equal([...after].filter(([k, t]) => before.get(k) !== t), [], 'no object written');
});

test('a changed render (KRaft → ZooKeeper → KRaft) applies and prunes: no conflicts, no immutable-field errors', async () => {
  const render = commands.find((c) => c.startsWith('airy-manifests render')) as string;
  for (const [mode, gone, there] of [
    ['zookeeper', 'kafka-controller', 'zookeeper'],
    ['kraft', 'zookeeper', 'kafka-controller'],
  ] as const) {
    const rendered = await step(`${render} --kafka-mode ${mode}`);
    assert.is(rendered.code, 0, rendered.stderr);
    const applied = await step(applyCommand());
    assert.is(applied.code, 0, `${mode}: ${applied.stdout}\n${applied.stderr}`);
    assert.not.match(applied.stderr, /conflict|immutable/i);
    const sets = (await cluster.items(['statefulsets', '-n', NAMESPACE])).map((s) => s.metadata.name);
    assert.ok(sets.includes(there), `${mode}: ${there} applied (${sets.join(', ')})`);
    assert.not.ok(sets.includes(gone), `${mode}: ${gone} pruned (${sets.join(', ')})`);
  }
  const rollout = await step(commands.find((c) => c.includes('rollout status')) as string);
  assert.is(rollout.code, 0, rollout.stderr);
  assert.equal(await unschedulable(cluster, NAMESPACE), []);
});

test('on a cluster too small for production (one large node), the pods that cannot be placed are named with the reason', async () => {
  // Room enough for everything but the spread: the brokers' and controllers' anti-affinity wants three nodes.
  const small = await startCluster('small', { nodes: 1, cpu: '16', memory: '64Gi' });
  try {
    const dir = scratch(small, 'deploy');
    const render = await small.run(join(repo, 'node_modules', '.bin', 'airy-manifests'), ['render', '--profile', 'production', '--plain-http', '--out', dir]);
    assert.is(render.code, 0, render.stderr);
    const crds = await small.run('istioctl', ['install', '-y', '-f', join(dir, 'istio-operator.yaml')]);
    assert.is(crds.code, 0, crds.stderr);
    const applied = await small.run('kubectl', ['apply', '--server-side', '-k', dir]);
    assert.is(applied.code, 0, applied.stderr);
    let stuck: { pod: string; why: string }[] = [];
    assert.ok(
      await eventually(120, async () => {
        stuck = (await unschedulable(small, NAMESPACE)).filter((p) => /Insufficient|anti-affinity/.test(p.why));
        // A StatefulSet makes its next pod once the one before is ready: wait for a broker's turn too.
        return stuck.some((s) => /^kafka(-controller)?-\d+$/.test(s.pod));
      }),
      'the scheduler says why',
    );
    console.log('  cannot be placed on one node of 16 CPUs and 64Gi:');
    for (const s of stuck) console.log(`    ${s.pod}: ${s.why}`);
    assert.ok(
      stuck.some((s) => /^kafka(-controller)?-\d+$/.test(s.pod) && /anti-affinity/.test(s.why)),
      stuck.map((s) => s.pod).join(', '),
    );
  } finally {
    await small.stop();
  }
});

test.run();
