/**
 * The options' checks (src/options/schema.ts): values of the wrong type are refused naming their key, YAML 1.1's
 * booleans included; resource quantities and strings are checked; through the CLI, each is one line with exit 2.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type PlatformOptions, resolveOptions } from '../src/index.ts';
import { CORE_COMPONENTS } from '../src/airy-core.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'airy-manifests-options-'));
let n = 0;
/** `airy-manifests render --stdout` with this config file, as a user runs it. */
const render = (yaml: string) => {
  const config = join(dir, `c-${n++}.yaml`);
  writeFileSync(config, yaml);
  const result = spawnSync(process.execPath, [join(packageDir, 'bin/airy-manifests.js'), 'render', '--stdout', '--config', config], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, AIRY_POSTGRES_PASSWORD: 'one-password-for-these-renders' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.trimEnd() };
};
/** What resolveOptions throws for these options, or undefined when it does not. */
const refusal = (options: unknown): string | undefined => {
  try {
    resolveOptions(options as PlatformOptions);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
};

test('replaceCoreApps: no is refused naming the key, exit 2 (it rendered no release component, exit 0)', () => {
  const out = render('replaceCoreApps: no\n');
  assert.is(out.status, 2, out.stderr);
  assert.is(out.stderr.split('\n').length, 1, out.stderr);
  assert.match(out.stderr, /^airy-manifests: invalid option replaceCoreApps: must be true or false, got the string "no"/);
  assert.is(out.stdout, '');
});

test('ngrok: {enabled: no} is refused naming the key, exit 2 (it turned the agent on)', () => {
  const out = render('ngrok: {enabled: no}\n');
  assert.is(out.status, 2, out.stderr);
  assert.is(out.stderr.split('\n').length, 1, out.stderr);
  assert.match(out.stderr, /^airy-manifests: invalid option ngrok\.enabled: must be true or false, got the string "no"/);
  assert.is(out.stdout, '');
});

test("every boolean option refuses YAML 1.1's yes/no/on/off, naming its key", () => {
  for (const [options, key] of [
    [{ replaceCoreApps: 'yes' }, 'replaceCoreApps'],
    [{ componentsInstaller: 'off' }, 'componentsInstaller'],
    [{ ngrok: { enabled: 'on' } }, 'ngrok.enabled'],
    [{ ingress: { plainHttp: 'Yes' } }, 'ingress.plainHttp'],
    [{ apps: [{ name: 'billing', image: 'example/billing:1.0.0', port: 9000, database: 'no' }] }, 'apps[0].database'],
  ] as const) {
    const message = refusal(options);
    assert.ok(message?.startsWith(`${key}: must be true or false, got the string`), `${JSON.stringify(options)}: ${message}`);
  }
  assert.match(refusal({ replaceCoreApps: 0 }) ?? '', /^replaceCoreApps: must be true or false, got 0$/);
  // Real booleans still work both ways.
  assert.is(resolveOptions({ replaceCoreApps: true }).core.components.length, 0);
  assert.is(resolveOptions({ replaceCoreApps: false }).core.components.length, CORE_COMPONENTS.length);
  assert.is(resolveOptions({ ngrok: { enabled: false } }).ngrok.enabled, false);
});

test('resource quantities are checked: their form, above zero, and no request above its limit', () => {
  const spec = (requests: { cpu: unknown; memory: unknown }, limits: { cpu: unknown; memory: unknown } = { cpu: '1', memory: '1Gi' }) => ({
    kafka: { resources: { requests, limits } },
  });
  assert.match(refusal(spec({ cpu: 'lots', memory: '512Mi' })) ?? '', /^kafka\.resources\.requests\.cpu: must be a CPU quantity above 0 .*got "lots"/);
  assert.match(refusal(spec({ cpu: '250m', memory: '1 GB' })) ?? '', /^kafka\.resources\.requests\.memory: must be a memory quantity above 0/);
  assert.match(refusal(spec({ cpu: '0', memory: '512Mi' })) ?? '', /^kafka\.resources\.requests\.cpu: must be a CPU quantity above 0/);
  assert.match(refusal(spec({ cpu: 1, memory: '512Mi' })) ?? '', /^kafka\.resources\.requests\.cpu: must be a string, got 1/);
  assert.match(refusal(spec({ cpu: '2', memory: '512Mi' })) ?? '', /^kafka\.resources: requests\.cpu 2 is above limits\.cpu 1/);
  assert.match(refusal(spec({ cpu: '500m', memory: '2Gi' })) ?? '', /^kafka\.resources: requests\.memory 2Gi is above limits\.memory 1Gi/);
  assert.match(refusal({ postgres: { resources: { requests: { cpu: '1', memory: '1Gi' } } } }) ?? '', /^postgres\.resources\.limits: is required/);
  const good = resolveOptions(spec({ cpu: '500m', memory: '768Mi' }) as PlatformOptions);
  assert.equal(good.kafka.resources, { requests: { cpu: '500m', memory: '768Mi' }, limits: { cpu: '1', memory: '1Gi' } });
});

test('strings are checked: the database names, the health path, and required app keys', () => {
  assert.match(refusal({ postgres: { database: 5 } }) ?? '', /^postgres\.database: must be a string, got 5/);
  assert.match(refusal({ postgres: { user: 'airy; DROP' } }) ?? '', /^postgres\.user: must be a PostgreSQL name/);
  const app = { name: 'billing', image: 'example/billing:1.0.0', port: 9000 };
  assert.match(refusal({ apps: [{ ...app, healthPath: 'health' }] }) ?? '', /^apps\[0\]\.healthPath: "health" must start with \//);
  assert.match(refusal({ apps: [{ name: 'billing', port: 9000 }] }) ?? '', /^apps\[0\]\.image: is required/);
  assert.match(refusal({ apps: [{ ...app, env: { A: ['x'] } }] }) ?? '', /^apps\[0\]\.env\.A: must be a string, got \["x"\]/);
  assert.match(refusal({ kafka: [1] }) ?? '', /^kafka: must be a mapping, got a list/);
  // Numbers and booleans in env are written as YAML shows them.
  assert.equal(resolveOptions({ apps: [{ ...app, env: { N: 3 as never, B: true as never } }] }).apps[0]?.env, { N: '3', B: 'true' });
});

test("a config file's section that is not a mapping is refused naming it, before the flags are merged in", () => {
  for (const [yaml, why] of [
    ['ingress: 5\n', /^airy-manifests: invalid option ingress: must be a mapping, got 5 \[OPTION_INVALID\]$/],
    ['ngrok: no\n', /^airy-manifests: invalid option ngrok: must be a mapping, got "no" \[OPTION_INVALID\]$/],
    ['postgres: [a]\n', /^airy-manifests: invalid option postgres: must be a mapping, got a list \[OPTION_INVALID\]$/],
  ] as const) {
    const out = render(yaml);
    assert.is(out.status, 2, out.stderr);
    assert.match(out.stderr, why);
  }
});

test('an empty section (`zookeeper:` with nothing under it) counts as not given', () => {
  const out = render('zookeeper:\nkafka:\n');
  assert.is(out.status, 0, out.stderr);
  assert.is(resolveOptions({ zookeeper: null as never }).zookeeper.servers, 1);
});

test('names: one rule with validate; a namespace may start with a digit, an app (a Service) may not', async () => {
  // The options refused a namespace such as 1airy, which the API server (and validate) take.
  assert.is(refusal({ namespace: '1airy' }), undefined);
  assert.is(resolveOptions({ namespace: '1airy' }).namespace, '1airy');
  assert.match(refusal({ namespace: 'a'.repeat(64) }) ?? '', /^namespace: must be a DNS label/);
  const app = (name: string) => ({ apps: [{ name, image: 'example/billing:1.0.0', port: 9000 }] });
  assert.match(refusal(app('1billing')) ?? '', /^apps\[0\]\.name: must be a DNS label starting with a letter/);
  assert.is(refusal(app('billing')), undefined);
  // validate says the same of the same names.
  const { validateDocuments } = await import('../src/index.ts');
  const doc = (kind: string, name: string, namespace?: string) => ({
    file: 'f',
    index: 0,
    object: { apiVersion: 'v1', kind, metadata: { name, ...(namespace ? { namespace } : {}) } },
  });
  const names = async (d: ReturnType<typeof doc>) =>
    (await validateDocuments([d])).problems.filter((p) => p.path.startsWith('metadata.name') || p.path.startsWith('metadata.namespace')).map((p) => p.path);
  assert.equal(await names(doc('Namespace', '1airy')), []);
  assert.equal(await names(doc('Service', '1billing', '1airy')), ['metadata.name']);
});

test('pinned images: one rule with validate (no tag and latest refused; a digest or a registry port is fine)', async () => {
  const app = (image: string) => refusal({ apps: [{ name: 'billing', image, port: 9000 }] });
  for (const image of ['example/billing', 'example/billing:', 'example/billing:latest', 'registry:5000/billing']) {
    assert.match(app(image) ?? '', /must be pinned to an exact tag/, image);
  }
  for (const image of ['example/billing:1.0.0', 'registry:5000/billing:1.0', `example/billing@sha256:${'a'.repeat(64)}`]) assert.is(app(image), undefined, image);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
