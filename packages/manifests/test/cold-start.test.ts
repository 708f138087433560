/**
 * What a cold start of the CLI loads. Each command loads only what it uses: render no schema code, validate no
 * rendering and only the schemas of the kinds it meets, --help neither. Checked by the modules a run loads, which
 * are the same on every machine (its timings are not; `npx projen bench:manifests` measures those).
 */
import { spawnSync } from 'node:child_process';
import * as nodeModule from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const bin = fileURLToPath(new URL('../bin/airy-manifests.js', import.meta.url));
// Synchronous load hooks (Node 22.15 and later) see every module, ES and CommonJS alike.
const hooks = 'registerHooks' in nodeModule;
const hooksTest = hooks ? test : test.skip;
if (!hooks) console.log(`skip: the cold-start module tests need module.registerHooks (Node 22.15+), this is ${process.version}`);

/** The URLs of the modules `airy-manifests args` loads, in a fresh process. */
function loadedBy(args: readonly string[]): { urls: string[]; status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'airy-cold-'));
  try {
    const record = join(dir, 'loaded.txt');
    const hook = join(dir, 'hook.mjs');
    writeFileSync(record, '');
    writeFileSync(
      hook,
      "import { registerHooks } from 'node:module';\nimport { appendFileSync } from 'node:fs';\n" +
        `registerHooks({ load(url, context, next) { appendFileSync(${JSON.stringify(record)}, url + '\\n'); return next(url, context); } });\n`,
    );
    const run = spawnSync(process.execPath, ['--import', pathToFileURL(hook).href, bin, ...args], { encoding: 'utf8' });
    return { urls: readFileSync(record, 'utf8').split('\n').filter(Boolean), status: run.status, stderr: run.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SCHEMA_CODE = /\/node_modules\/(kubernetes-models|@kubernetes-models|ajv[^/]*)\//;

hooksTest('render loads no schema code: no kubernetes-models, no ajv', () => {
  const run = loadedBy(['render', '--profile', 'production', '--plain-http', '--stdout']);
  assert.is(run.status, 0, run.stderr);
  assert.ok(run.urls.some((u) => u.endsWith('/lib/platform.js')), 'the hook saw the render');
  assert.equal(run.urls.filter((u) => SCHEMA_CODE.test(u)), []);
});

hooksTest('validate loads the schemas of the kinds it meets, and no rendering', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airy-cold-validate-'));
  try {
    writeFileSync(
      join(dir, 'config.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: demo\ndata:\n  mode: fast\n',
    );
    const run = loadedBy(['validate', dir]);
    assert.is(run.status, 0, run.stderr);
    assert.ok(run.urls.some((u) => u.endsWith('/_schemas/IoK8sApiCoreV1ConfigMap.js')), 'the ConfigMap schema is loaded');
    assert.equal(run.urls.filter((u) => /\/_schemas\/IoK8sApiAppsV1/.test(u)), [], 'no schema of a kind the file lacks');
    assert.equal(run.urls.filter((u) => /\/lib\/(platform|render|components\/airy-core)\.js$/.test(u)), [], 'no rendering');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

hooksTest('--help loads neither the YAML parser nor schema code', () => {
  const run = loadedBy(['--help']);
  assert.is(run.status, 0, run.stderr);
  assert.equal(run.urls.filter((u) => SCHEMA_CODE.test(u) || /\/node_modules\/yaml\//.test(u)), []);
});

test.run();
