import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { badInputTests, cliConventionTests, runBin } from '../../../tools/testing/cli.ts';
import { boxFiles, IMAGES } from '../src/index.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const deployments = fileURLToPath(new URL('../../../infrastructure/deployments', import.meta.url));

cliConventionTests(packageDir, { typo: 'rendr', meant: 'render' });

badInputTests(packageDir, [
  [['render', '--profile', 'staging', '--stdout'], /--profile.*staging.*local, production/],
  [['images', '--kafka-mode', 'raft'], /--kafka-mode.*raft.*kraft, zookeeper/],
  [['render', '--profile', 'local'], /exactly one of --out DIR or --stdout/],
  [['resources', '--config', '/nonexistent.yaml'], /cannot read \/nonexistent.yaml: no such file/],
  [['frobnicate'], /unknown command 'frobnicate'/],
]);

test('a config file with a bad value names the option and exits 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airy-config-'));
  try {
    writeFileSync(join(dir, 'bad.yaml'), 'kafka:\n  brokers: three\n');
    const bad = runBin(packageDir, ['resources', '--config', join(dir, 'bad.yaml')]);
    assert.is(bad.status, 2);
    assert.match(bad.stderr, /^airy-manifests: invalid option kafka.brokers: must be a whole number/);
    writeFileSync(join(dir, 'list.yaml'), '- not a mapping\n');
    assert.match(runBin(packageDir, ['images', '--config', join(dir, 'list.yaml')]).stderr, /must be a YAML mapping/);
    writeFileSync(join(dir, 'apps.yaml'), 'apps:\n  - name: billing\n    image: example/billing:2.0.1\n    port: 9000\n');
    const images = runBin(packageDir, ['images', '--config', join(dir, 'apps.yaml')]);
    assert.is(images.status, 0, images.stderr);
    assert.ok(images.stdout.split('\n').includes('example/billing:2.0.1'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('render --out writes one file per component plus kustomization.yaml, and says where the password is', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airy-render-'));
  try {
    const run = runBin(packageDir, ['render', '--profile', 'production', '--out', dir]);
    assert.is(run.status, 0, run.stderr);
    const files = readdirSync(dir).sort();
    for (const f of ['kafka.yaml', 'schema-registry.yaml', 'postgres.yaml', 'topics.yaml', 'ingress.yaml', 'kustomization.yaml']) {
      assert.ok(files.includes(f), f);
    }
    assert.not.ok(files.includes('ngrok.yaml'), 'production renders no ngrok agent');
    assert.match(run.stderr, /postgres: Secret airy\/postgres-credentials holds a newly generated password/);
    const password = /POSTGRES_PASSWORD: (\S+)/.exec(readFileSync(join(dir, 'postgres.yaml'), 'utf8'))?.[1] ?? '';
    assert.ok(password.length >= 32, 'a strong generated password');
    assert.not.ok(run.stderr.includes(password) || run.stdout.includes(password), 'the password is never printed');

    // Re-rendering in the other mode removes the files that no longer belong.
    const again = runBin(packageDir, ['render', '--profile', 'production', '--postgres-secret', 'db', '--out', dir]);
    assert.is(again.status, 0, again.stderr);
    assert.match(again.stderr, /credentials come from your existing Secret airy\/db/);
    assert.not.match(readFileSync(join(dir, 'postgres.yaml'), 'utf8'), /POSTGRES_PASSWORD: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('render --stdout prints the cluster objects as one stream; AIRY_POSTGRES_PASSWORD is used', () => {
  const run = runBin(packageDir, ['render', '--stdout'], { env: { AIRY_POSTGRES_PASSWORD: 'from-the-environment-123' } });
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, /kind: StatefulSet/);
  assert.not.match(run.stdout, /kind: Kustomization|kind: IstioOperator/);
  assert.match(run.stdout, /POSTGRES_PASSWORD: from-the-environment-123/);
  assert.match(run.stderr, /holds AIRY_POSTGRES_PASSWORD/);
  assert.not.ok(run.stderr.includes('from-the-environment-123'));
});

test('a config file turns on webhook sources; an unknown source is one line, exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airy-sources-'));
  try {
    writeFileSync(join(dir, 'on.yaml'), 'sources: [facebook]\n');
    const on = runBin(packageDir, ['render', '--profile', 'local', '--config', join(dir, 'on.yaml'), '--stdout']);
    assert.is(on.status, 0, on.stderr);
    assert.match(on.stdout, 'name: sources-facebook-connector');
    assert.match(on.stdout, 'name: airy-core-webhooks');
    writeFileSync(join(dir, 'bad.yaml'), 'sources: [myspace]\n');
    const bad = runBin(packageDir, ['render', '--profile', 'local', '--config', join(dir, 'bad.yaml'), '--stdout']);
    assert.is(bad.status, 2);
    assert.match(bad.stderr, /sources\[0\]: unknown value "myspace" \(allowed: facebook, google, twilio\)/);
    assert.is(bad.stderr.trim().split('\n').length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('images prints one pinned image per line', () => {
  const run = runBin(packageDir, ['images', '--profile', 'local', '--kafka-mode', 'zookeeper']);
  assert.is(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  assert.ok(lines.includes(IMAGES.zookeeper) && lines.includes(IMAGES.kafka));
  for (const l of lines) assert.match(l, /^[\w./-]+:[\w.-]+$/);
  assert.ok(lines.includes(IMAGES.busybox), 'init containers count');
});

test('resources prints the sums, and JSON with --json', () => {
  const table = runBin(packageDir, ['resources', '--profile', 'local']);
  assert.is(table.status, 0, table.stderr);
  assert.match(table.stdout, /^component\s+cpu requests/);
  assert.match(table.stdout, /\ntotal\s+\S+/);
  assert.match(table.stdout, /node of the 4-CPU, 8192Mi VM: 3500m CPU and 7Gi allocatable; requested with Istio \(200m, 384Mi\) .*: \S+ CPU, \S+\n/);
  const json = JSON.parse(runBin(packageDir, ['resources', '--profile', 'production', '--json']).stdout);
  assert.ok(json.requests.cpuMillicores > 0 && json.limits.memoryBytes > 0);
});

test('infrastructure/deployments is the current render of the box platform (npx projen render-deployments)', () => {
  const expected = boxFiles();
  const present = readdirSync(deployments).filter((f) => f.endsWith('.yaml')).sort();
  assert.equal(present, [...expected.keys()].sort(), 'the same files');
  for (const [name, text] of expected) {
    assert.ok(readFileSync(join(deployments, name), 'utf8') === text, `${name} is stale: run npx projen render-deployments`);
  }
});

test.run();
