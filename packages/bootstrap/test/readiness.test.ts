import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { platformProbes, type Probe, type ProbeRunner, runProbe, waitReady } from '../src/readiness.ts';

test('readiness: polls until every component is ready, or names what is not', async () => {
  let clock = 0;
  const readyAt: Record<string, number> = { kafka: 30_000, 'schema-registry': 50_000, postgres: 10_000 };
  const runner = (ingressUp: boolean): ProbeRunner => ({
    exec: async (command) => {
      const name = Object.keys(readyAt).find((n) => command.includes(n === 'kafka' ? 'kafka-broker-api-versions' : n)) ?? '';
      const ok = clock >= (readyAt[name] ?? Number.POSITIVE_INFINITY);
      return { ok, stdout: ok ? (name === 'schema-registry' ? '200' : 'accepting connections') : 'error: pod not ready' };
    },
    http: async () => (ingressUp ? 404 : undefined),
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
  });
  const probes = platformProbes({ namespace: 'airy', database: 'airy_core', ingressUrl: 'http://x/', host: 'airy.core' });
  assert.equal(probes.map((p) => p.name), ['kafka', 'schema-registry', 'postgres', 'ingress']);
  const seen: string[] = [];
  const ok = await waitReady(probes, runner(true), { timeoutMs: 120_000, intervalMs: 5000, onChange: (s) => s.ready && seen.push(s.name) });
  assert.ok(ok.ready);
  assert.equal(seen, ['ingress', 'postgres', 'kafka', 'schema-registry']);
  clock = 0;
  const late = await waitReady(probes, runner(false), { timeoutMs: 40_000, intervalMs: 5000 });
  assert.not.ok(late.ready);
  assert.equal(late.states.filter((s) => !s.ready).map((s) => s.name), ['schema-registry', 'ingress']);
  // With nothing on stdout, the reason is the command's last line on stderr.
  const failing: ProbeRunner = { ...runner(false), exec: async () => ({ ok: false, stdout: '', stderr: 'Warning: x\nerror: pod airy/postgres-0 not found\n' }) };
  assert.is((await runProbe(probes[2] as Probe, failing)).detail, 'error: pod airy/postgres-0 not found');
});

test.run();
