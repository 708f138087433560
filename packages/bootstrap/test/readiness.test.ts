import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BOX_FACTS } from '../src/box-facts.ts';
import { platformProbes, type Probe, type ProbeRequest, type ProbeRunner, runProbe, waitReady } from '../src/readiness.ts';

const probes = platformProbes({ namespace: 'airy', database: 'airy_core', ingressUrl: 'http://x/', host: 'airy.core' });
const byName = (name: string) => probes.find((p) => p.name === name) as Probe;

/** A platform whose parts come up at the given times; the API answers 503 until `apiAt`, as the gateway does. */
function platform(times: { kafka: number; 'schema-registry': number; postgres: number; apps: number; apiAt: number }, ingressUp = true) {
  let clock = 0;
  const requests: ProbeRequest[] = [];
  const runner: ProbeRunner = {
    exec: async (command) => {
      const name = command.includes('kafka-broker-api-versions') ? 'kafka' : command.includes(' wait ') ? 'apps' : command.includes('schema-registry') ? 'schema-registry' : 'postgres';
      const ok = clock >= times[name];
      const stdout = ok ? (name === 'schema-registry' ? '200' : 'ready') : name === 'apps' ? '' : 'error: pod not ready';
      return { ok, stdout, stderr: ok ? '' : 'error: timed out waiting for the condition on deployments/api-admin' };
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
  assert.ok(apps.kind === 'exec' && apps.command.includes(`deployment -l ${BOX_FACTS.apps.selector}`));
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
  assert.is(apps.detail, 'error: timed out waiting for the condition on deployments/api-admin');
});

test.run();
