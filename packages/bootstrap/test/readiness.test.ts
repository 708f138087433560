import { BOX_PLATFORM_OPTIONS, platformObjects, renderPlatform } from '@airy/manifests';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BOX_FACTS } from '../src/box-facts.ts';
import { judgeRollout, platformProbes, type Probe, type ProbeRequest, type ProbeRunner, runProbe, waitReady } from '../src/readiness.ts';

const probes = platformProbes({ namespace: 'airy', database: 'airy_core', ingressUrl: 'http://x/', host: 'airy.core' });
const byName = (name: string) => probes.find((p) => p.name === name) as Probe;

// biome-ignore lint/suspicious/noExplicitAny: rendered objects and their status are plain data here.
type Any = any;
const [selectorKey, selectorValue] = BOX_FACTS.apps.selector.split('=') as [string, string];
/** The box's own Deployments of the app tier, as rendered. */
const appDeployments = (platformObjects(renderPlatform(BOX_PLATFORM_OPTIONS)) as Any[]).filter(
  (o) => o.kind === 'Deployment' && o.metadata.labels?.[selectorKey] === selectorValue,
);

/**
 * `kubectl get deployment -l … -o json` of the box's app tier, as the deployment controller leaves it: `ready`, or
 * `crash-looping` (no pod ready, yet Available as the release's maxUnavailable 1 made it), or `rolling` (a new spec
 * not yet seen by the controller, and an old pod still there).
 */
function deploymentList(state: 'ready' | 'crash-looping' | 'rolling', only?: string): string {
  const items = appDeployments.map((d) => {
    const wanted = d.spec.replicas ?? 1;
    const mine = only === undefined || d.metadata.name === only;
    const status =
      state === 'ready' || !mine
        ? { observedGeneration: 1, replicas: wanted, updatedReplicas: wanted, readyReplicas: wanted, availableReplicas: wanted }
        : state === 'crash-looping'
          ? { observedGeneration: 1, replicas: wanted, updatedReplicas: wanted, unavailableReplicas: wanted }
          : { observedGeneration: 1, replicas: wanted + 1, updatedReplicas: 1, readyReplicas: wanted, availableReplicas: wanted };
    const generation = state === 'rolling' && mine ? 2 : 1;
    const available = { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' };
    return { ...d, metadata: { ...d.metadata, generation }, status: { ...status, conditions: [available] } };
  });
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } }, null, 4);
}

/** A platform whose parts come up at the given times; the API answers 503 until `apiAt`, as the gateway does. */
function platform(times: { kafka: number; 'schema-registry': number; postgres: number; apps: number; apiAt: number }, ingressUp = true) {
  let clock = 0;
  const requests: ProbeRequest[] = [];
  const runner: ProbeRunner = {
    exec: async (command) => {
      const name = command.includes('kafka-broker-api-versions') ? 'kafka' : command.includes(' get deployment ') ? 'apps' : command.includes('schema-registry') ? 'schema-registry' : 'postgres';
      const ok = clock >= times[name];
      // kubectl lists the Deployments from the start; their pods become ready at the app tier's time.
      if (name === 'apps') return { ok: true, stdout: deploymentList(ok ? 'ready' : 'crash-looping'), stderr: '' };
      const stdout = ok ? (name === 'schema-registry' ? '200' : 'ready') : 'error: pod not ready';
      return { ok, stdout, stderr: ok ? '' : 'error: pod not ready' };
    },
    http: async (request) => {
      requests.push(request);
      if (!ingressUp) return undefined;
      if (request.url.endsWith(BOX_FACTS.apps.api.path)) return clock >= times.apiAt ? 200 : 503;
      return 404;
    },
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
  };
  return { runner, requests, reset: () => (clock = 0) };
}

test('readiness: the probes cover the platform and the app tier, in the order a user cares about', () => {
  assert.equal(probes.map((p) => p.name), ['kafka', 'schema-registry', 'postgres', 'ingress', 'apps', 'api']);
  const api = byName('api');
  assert.ok(api.kind === 'http' && api.method === 'POST' && api.url === 'http://x/client.config' && api.status === 200 && api.body === '{}');
  const apps = byName('apps');
  assert.ok(apps.kind === 'exec' && apps.command.includes(`get deployment -l ${BOX_FACTS.apps.selector} -o json`));
  assert.not.ok(apps.kind === 'exec' && apps.command.includes('condition=Available'), 'Available passes with no pod ready');
  // Kafka's tool runs beside the broker in its container: with a small heap of its own, not the broker's.
  const kafka = byName('kafka');
  assert.ok(kafka.kind === 'exec' && kafka.command.includes(`-- env KAFKA_HEAP_OPTS=${BOX_FACTS.kafka.clientHeap} kafka-broker-api-versions`));
});

test('readiness: polls until every component is ready, or names what is not', async () => {
  const p = platform({ kafka: 30_000, 'schema-registry': 50_000, postgres: 10_000, apps: 60_000, apiAt: 90_000 });
  const seen: string[] = [];
  const ok = await waitReady(probes, p.runner, { timeoutMs: 120_000, intervalMs: 5000, onChange: (s) => s.ready && seen.push(s.name) });
  assert.ok(ok.ready);
  assert.equal(seen, ['ingress', 'postgres', 'kafka', 'schema-registry', 'apps', 'api']);
  // The API probe is a POST with a JSON body to the release's /client.config, sent with the ingress's host.
  const api = p.requests.find((r) => r.url.endsWith('/client.config'));
  assert.equal(api, { url: 'http://x/client.config', host: 'airy.core', method: 'POST', body: '{}' });
  p.reset();
  const late = await waitReady(probes, platform({ kafka: 0, 'schema-registry': 50_000, postgres: 0, apps: 0, apiAt: 0 }, false).runner, {
    timeoutMs: 40_000,
    intervalMs: 5000,
  });
  assert.not.ok(late.ready);
  assert.equal(late.states.filter((s) => !s.ready).map((s) => s.name), ['schema-registry', 'ingress', 'api']);
  // With nothing on stdout, the reason is the command's last line on stderr.
  const failing: ProbeRunner = { ...p.runner, exec: async () => ({ ok: false, stdout: '', stderr: 'Warning: x\nerror: pod airy/postgres-0 not found\n' }) };
  assert.is((await runProbe(byName('postgres'), failing)).detail, 'error: pod airy/postgres-0 not found');
});

test('readiness: a gateway that answers 503 while the apps start is up, but the API is not ready', async () => {
  // The frontend's nginx and the gateway answer in seconds; api-admin needs its stores: the case the old probe missed.
  const p = platform({ kafka: 0, 'schema-registry': 0, postgres: 0, apps: 0, apiAt: Number.POSITIVE_INFINITY });
  const ingress = await runProbe(byName('ingress'), p.runner);
  const api = await runProbe(byName('api'), p.runner);
  assert.ok(ingress.ready);
  assert.not.ok(api.ready);
  assert.is(api.detail, 'POST /client.config: HTTP 503, not 200');
  const apps = await runProbe(byName('apps'), platform({ kafka: 0, 'schema-registry': 0, postgres: 0, apps: 1, apiAt: 0 }).runner);
  assert.not.ok(apps.ready);
  const first = appDeployments.slice(0, 3).map((d) => `${d.metadata.name} 0/1`).join(', ');
  assert.is(apps.detail, `0 of ${appDeployments.length} ready; waiting for ${first}, +${appDeployments.length - 3} more`);
});

test('readiness: the app tier is ready when every Deployment has its pods ready and rolled out, whatever Available says', async () => {
  assert.ok(appDeployments.length >= 6, 'the release’s Deployments carry the selector');
  const run = (stdout: string, ok = true) => runProbe(byName('apps'), { ...platform({ kafka: 0, 'schema-registry': 0, postgres: 0, apps: 0, apiAt: 0 }).runner, exec: async () => ({ ok, stdout, stderr: ok ? '' : 'error: the server doesn’t have a resource type "deployment"' }) });
  assert.equal(await run(deploymentList('ready')), { name: 'apps', ready: true, detail: `${appDeployments.length} of ${appDeployments.length} ready` });
  // Crash-looping behind an Available condition (the release's maxUnavailable 1 with one replica): not ready.
  const looping = await run(deploymentList('crash-looping', 'api-admin'));
  assert.equal(looping, { name: 'apps', ready: false, detail: `${appDeployments.length - 1} of ${appDeployments.length} ready; waiting for api-admin 0/1` });
  // A new spec the controller has not seen, and an old pod still running beside the new one: not rolled out.
  assert.match((await run(deploymentList('rolling', 'api-websocket'))).detail, /; waiting for api-websocket rolling out$/);
  assert.equal(await run('{"apiVersion":"v1","items":[],"kind":"List"}'), { name: 'apps', ready: false, detail: `no Deployments labelled ${BOX_FACTS.apps.selector} yet` });
  assert.equal(await run('Error from server'), { name: 'apps', ready: false, detail: 'kubectl gave no list of Deployments' });
  assert.equal(await run('', false), { name: 'apps', ready: false, detail: 'error: the server doesn’t have a resource type "deployment"' });
  // A name that is not a DNS label (never from a real cluster) is not printed.
  assert.is(judgeRollout(JSON.stringify({ items: [{ metadata: { name: '\u001b[2Jx' }, spec: { replicas: 1 }, status: {} }] }), 'a=b').detail, '0 of 1 ready; waiting for ? 0/1');
});

test.run();
