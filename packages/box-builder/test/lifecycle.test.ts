/**
 * The platform's start and stop order, run for real: the box's own provisioning.sh and lifecycle.sh in bash, with
 * `kubectl` and `minikube` stood in by a script that records what it is asked and says yes.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { boxFacts, boxFactsEnv } from '@airy/manifests';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const scripts = join(repo, 'images', 'scripts');
const work = mkdtempSync(join(tmpdir(), 'airy-lifecycle-'));
const bin = join(work, 'bin');
const calls = join(work, 'calls');
mkdirSync(bin);
for (const tool of ['kubectl', 'minikube']) {
  writeFileSync(join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> '${calls}'\n`);
  chmodSync(join(bin, tool), 0o755);
}
// Installed as the box installs it (manifests.sh): executable, at the path the facts name.
const lifecycle = join(work, 'airy-lifecycle');
copyFileSync(join(scripts, 'lifecycle.sh'), lifecycle);
chmodSync(lifecycle, 0o755);
const facts = join(work, 'airy.env');
writeFileSync(facts, boxFactsEnv({ ...boxFacts(), lifecycle }));
const env = {
  ...process.env,
  PATH: `${bin}:${process.env.PATH}`,
  AIRY_FACTS: facts,
  AIRY_DEPLOYMENTS: join(repo, 'infrastructure', 'deployments'),
  AIRY_USER: 'airy-no-such-user',
  KUBECONFIG: join(work, 'kubeconfig'),
};
const recorded = () => readFileSync(calls, 'utf8').trim().split('\n');

test('start: each tier is rolled out before the next is applied (stores, Kafka, Schema Registry, then the apps)', () => {
  rmSync(calls, { force: true });
  const run = spawnSync('bash', [join(scripts, 'provisioning.sh')], { env, encoding: 'utf8' });
  assert.is(run.status, 0, run.stdout + run.stderr);
  const steps = recorded()
    // The platform's tiers (Istio's gateway check, before them, is first-boot.test's).
    .filter((c) => c.startsWith('kubectl apply') || (c.includes('rollout status') && !c.includes('-n istio-system')) || c.includes(' job '))
    .map((c) =>
      c
        .replace(/^kubectl apply -f .*\//, 'apply ')
        .replace(/^kubectl -n airy rollout status (\S+).*/, 'ready $1')
        .replace(/^kubectl -n airy delete job -l app\.kubernetes\.io\/name=(\S+) --ignore-not-found.*/, 'delete job $1')
        .replace(/^kubectl -n airy wait --for=condition=complete job -l app\.kubernetes\.io\/name=(\S+) .*/, 'complete job $1'),
    );
  assert.equal(steps, [
    // Once before the Secret is made in it (always: applying is idempotent), once as the kustomization's first file.
    'apply namespace.yaml',
    'apply namespace.yaml',
    'apply network-policies.yaml',
    'apply postgres.yaml',
    'ready statefulset/postgres',
    'apply kafka.yaml',
    'ready statefulset/kafka',
    'apply schema-registry.yaml',
    'ready deployment/schema-registry',
    // The topics Job runs again at every boot, and the apps wait for it: Kafka Streams apps fail on a missing topic.
    'delete job kafka-topics',
    'apply topics.yaml',
    'complete job kafka-topics',
    'apply airy-core.yaml',
    'apply ingress.yaml',
  ]);
});

test('stop: the apps, then the Schema Registry, then Kafka, then the stores, each gone before the next', () => {
  rmSync(calls, { force: true });
  const run = spawnSync('bash', [join(scripts, 'lifecycle.sh'), 'stop'], { env, encoding: 'utf8' });
  assert.is(run.status, 0, run.stdout + run.stderr);
  const steps = recorded().filter((c) => c.includes(' scale ') || c.includes(' wait '));
  const scaled = steps.filter((c) => c.includes(' scale ')).map((c) => c.replace(/^kubectl -n airy scale --replicas=0 /, ''));
  assert.is(scaled.length, 4);
  assert.ok(scaled[0]?.includes('deployment/api-admin') && scaled[0].includes('deployment/ngrok'), scaled[0]);
  assert.not.ok(scaled[0]?.includes('schema-registry'));
  assert.equal(scaled.slice(1), ['deployment/schema-registry', 'statefulset/kafka', 'statefulset/postgres']);
  // Every scale-down is followed by its wait, before the next tier.
  for (const [i, c] of steps.entries()) assert.ok(i % 2 === 0 ? c.includes(' scale ') : c.includes('wait --for=delete pod'), c);
  assert.match(steps[7] ?? '', /app\.kubernetes\.io\/name in \(postgres\)/);
});

test('stop with no platform running (the offline box, a first boot) does nothing and succeeds', () => {
  rmSync(calls, { force: true });
  writeFileSync(join(bin, 'kubectl'), `#!/bin/sh\necho "kubectl $*" >> '${calls}'\nexit 1\n`);
  const run = spawnSync('bash', [join(scripts, 'lifecycle.sh'), 'stop'], { env, encoding: 'utf8' });
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, /no platform is running/);
  assert.equal(recorded(), ['kubectl get namespace airy']);
  const bad = spawnSync('bash', [join(scripts, 'lifecycle.sh'), 'sideways'], { env, encoding: 'utf8' });
  assert.is(bad.status, 2);
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
