import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { badInputTests, cliConventionTests, runBin } from '../../../tools/testing/cli.ts';
import { app, boxFiles, objectsOf, platformDocuments, renderFiles, renderPlatform, validateDocuments, withExtra, writeRendered } from '../src/index.ts';
import { EXTRA_FILE } from '../src/objects.ts';
import { IMAGES } from '../src/versions.ts';

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
    assert.match(bad.stderr, /^airy-manifests: invalid option kafka.brokers: must be a whole number.* \[OPTION_INVALID\]\n$/);
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
    const run = runBin(packageDir, ['render', '--profile', 'production', '--plain-http', '--out', dir]);
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
    const again = runBin(packageDir, ['render', '--profile', 'production', '--plain-http', '--postgres-secret', 'db', '--out', dir]);
    assert.is(again.status, 0, again.stderr);
    assert.match(again.stderr, /credentials come from your existing Secret airy\/db/);
    assert.not.match(readFileSync(join(dir, 'postgres.yaml'), 'utf8'), /POSTGRES_PASSWORD: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('render --out prints the whole order for a cluster of your own: Istio first, the Secrets, then apply -k, then the wait', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airy-render-'));
  try {
    const run = runBin(packageDir, ['render', '--profile', 'local', '--out', join(dir, 'local')]);
    assert.is(run.status, 0, run.stderr);
    const steps = run.stderr.split('\n').filter((l) => /^ {2}\d+\. /.test(l));
    const at = (pattern: RegExp) => steps.findIndex((l) => pattern.test(l));
    assert.ok(at(/istioctl install -y -f \S+\/istio-operator\.yaml/) === 0, steps.join('\n'));
    assert.ok(at(/create secret generic ngrok --from-literal=authtoken="\$NGROK_AUTHTOKEN"/) > 0, 'the agent waits for its Secret');
    assert.ok(at(/kubectl apply -k /) > at(/create secret generic ngrok/));
    assert.ok(at(/kubectl -n airy wait --for=condition=Available/) === steps.length - 1);
    const own = runBin(packageDir, ['render', '--profile', 'local', '--no-ngrok', '--postgres-secret', 'mydb', '--out', join(dir, 'own')]);
    assert.ok(own.stderr.includes('create secret generic mydb --from-literal=POSTGRES_USER=airy'), own.stderr);
    assert.not.match(own.stderr, /NGROK_AUTHTOKEN/);
    // A folder whose name the shell would split or run: quoted in every line, and bash reads it back as the folder.
    const odd = join(dir, "it's $(echo no) out");
    const quoted = runBin(packageDir, ['render', '--profile', 'local', '--no-ngrok', '--out', odd]);
    assert.is(quoted.status, 0, quoted.stderr);
    const apply = /\d+\. kubectl apply -k (.+?) {3}#/.exec(quoted.stderr)?.[1] ?? '';
    assert.is(spawnSync('bash', ['-c', `printf %s ${apply}`], { encoding: 'utf8' }).stdout, odd, apply);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeRendered: a file holding a Secret is 0600 without being told, the others 0644', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airy-write-'));
  try {
    await writeRendered(join(dir, 'out'), renderFiles(renderPlatform({ profile: 'local', postgres: { password: 'a-password-of-the-test-1234' } })));
    const mode = (f: string) => statSync(join(dir, 'out', f)).mode & 0o777;
    assert.is(mode('postgres.yaml'), 0o600);
    assert.is(mode('kafka.yaml'), 0o644);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeRendered: a rendered file changed to hold a Secret is still 0600 (only unchanged texts skip the parse)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airy-write-'));
  try {
    const files = renderFiles(renderPlatform({ profile: 'local', postgres: { password: 'a-password-of-the-test-1234' } }));
    const secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\nstringData:\n  token: a-token-of-the-test\n';
    files.set('kafka.yaml', `${files.get('kafka.yaml')}---\n${secret}`);
    await writeRendered(join(dir, 'out'), files);
    const mode = (f: string) => statSync(join(dir, 'out', f)).mode & 0o777;
    assert.is(mode('kafka.yaml'), 0o600);
    assert.is(mode('topics.yaml'), 0o644);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a platform whose pods cannot start is not "0 problems": no password and no existing Secret is reported', async () => {
  const validated = async (postgres: { password?: string; existingSecret?: string }) => {
    const platform = renderPlatform({ profile: 'local', postgres });
    const documents = platform.components.flatMap((c) => c.objects.map((object, index) => ({ file: c.file, index, object })));
    return (await validateDocuments(documents)).problems.map((p) => p.message);
  };
  const missing = await validated({});
  assert.ok(missing.some((m) => /Secret airy\/postgres-credentials does not exist/.test(m)), missing.join('\n'));
  assert.equal(await validated({ existingSecret: 'postgres-credentials' }), [], 'said to exist: fine');
  assert.equal(await validated({ password: 'a-password-of-the-test-1234' }), [], 'rendered: fine');
});

test('validate: a folder without YAML is bad input, and the summary counts files and documents', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airy-validate-'));
  try {
    mkdirSync(join(dir, 'empty'));
    const empty = runBin(packageDir, ['validate', join(dir, 'empty')]);
    assert.is(empty.status, 2);
    assert.match(empty.stderr, /a folder with no \*\.yaml or \*\.yml files.* \[PATH_UNUSABLE\]\n$/);
    writeFileSync(join(dir, 'broken.yaml'), 'kind: [\n');
    const broken = runBin(packageDir, ['validate', join(dir, 'broken.yaml')]);
    assert.is(broken.status, 1);
    assert.match(broken.stderr, /^1 problem in 1 file \(0 documents\)$/m);
    const ok = runBin(packageDir, ['validate', deployments]);
    assert.is(ok.status, 0, ok.stdout);
    assert.match(ok.stderr, /^0 problems in \d+ files \(\d+ documents\)$/m);
    const json = JSON.parse(runBin(packageDir, ['validate', '--json', join(dir, 'broken.yaml')]).stdout);
    assert.is(json.ok, false);
    assert.is(json.files, 1);
    assert.match(json.problems[0].message, /^YAML: /);
    const images = JSON.parse(runBin(packageDir, ['images', '--json']).stdout) as string[];
    assert.ok(images.includes(IMAGES.busybox));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the library as another repository uses it: typed objects, documents, app() as written, objects of its own', async () => {
  const platform = renderPlatform({ profile: 'local', postgres: { password: 'a-password-of-the-test-1234' } });
  // Typed: a change needs no cast, and shows in what is written.
  const [api] = objectsOf(platform, 'Deployment', 'api-admin');
  assert.ok(api?.spec, 'api-admin is a Deployment of the release');
  if (api?.spec) api.spec.replicas = 3;
  assert.match(renderFiles(platform).get('airy-core.yaml') ?? '', /name: api-admin[\s\S]*?replicas: 3/);
  assert.ok(objectsOf(platform, 'StatefulSet').some((s) => s.metadata?.name === 'kafka'));
  // One function for the documents every consumer validates.
  assert.equal((await validateDocuments(platformDocuments(platform))).problems, []);
  // app() with an AppSpec as users write it: the profile's defaults filled in, the values checked.
  const billing = app(platform.config, { name: 'billing', image: 'example/billing:1.4.2', port: 9000 });
  assert.equal(billing.map((o) => o.kind), ['Deployment', 'Service']);
  assert.throws(() => app(platform.config, { name: 'billing', image: 'example/billing:latest', port: 9000 }), /app.image/);
  // Objects of its own: one more file, last in the kustomization, validated with the rest.
  const extended = withExtra(platform, billing);
  const files = renderFiles(extended);
  assert.match(files.get('kustomization.yaml') ?? '', new RegExp(`- ${EXTRA_FILE}\\n$`));
  assert.match(files.get(EXTRA_FILE) ?? '', /name: billing/);
  assert.equal((await validateDocuments(platformDocuments(extended))).problems, []);
});

test('render --extra FILE: your objects join the kustomization when they hold together with the platform; else nothing is written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airy-extra-'));
  try {
    const good = join(dir, 'billing.yaml');
    writeFileSync(good, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: billing-settings\n  namespace: airy\ndata:\n  currency: EUR\n');
    const ok = runBin(packageDir, ['render', '--profile', 'local', '--extra', good, '--out', join(dir, 'out')]);
    assert.is(ok.status, 0, ok.stderr);
    assert.match(readFileSync(join(dir, 'out', 'kustomization.yaml'), 'utf8'), /- extra\.yaml/);
    assert.match(readFileSync(join(dir, 'out', 'extra.yaml'), 'utf8'), /name: billing-settings/);
    const bad = join(dir, 'broken.yaml');
    writeFileSync(bad, 'apiVersion: v1\nkind: Service\nmetadata:\n  name: billing\n  namespace: airy\nspec:\n  selector:\n    app: billing\n  ports:\n    - port: 80\n');
    const refused = runBin(packageDir, ['render', '--profile', 'local', '--extra', bad, '--out', join(dir, 'refused')]);
    assert.is(refused.status, 1);
    assert.match(refused.stdout, /broken\.yaml:0:spec\.selector: selector app=billing matches no pod template/);
    assert.match(refused.stderr, /--extra: 1 problem with the platform; nothing was written/);
    assert.not.ok(existsSync(join(dir, 'refused')), 'nothing was written');
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
  assert.match(table.stdout, /node of the 4-CPU, 8192Mi VM: 3500m CPU and 7Gi allocatable; requested with Istio \(200m, 384Mi\) .*: \S+ CPU, \S+; with the OS's share \(500m, 1Gi\) the smallest VM has \d+ CPUs and \d+ MiB\n/);
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
