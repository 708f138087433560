#!/usr/bin/env tsx
/**
 * The packages as users get them: published to a real npm registry (Verdaccio) on loopback, then installed into
 * empty folders with an empty npm cache, on the Node.js that runs this script (CI runs it on Node 22 through
 * `tools/with-node.sh 22`, the lowest major the packages declare):
 *   1. `npx @airy/bootstrap --version`, with no npm warning (engine warnings included), then `download` from a file
 *      catalog, verified;
 *   2. a strict TypeScript project (module/moduleResolution `nodenext`, and `bundler`) imports `@airy/manifests`,
 *      renders and validates the local platform;
 *   3. `airy-box build --help`, and `packer validate` of the templates shipped inside the installed package;
 *   4. `require('@airy/manifests')` from CommonJS: Node 22 loads the ESM package.
 * Registry packages other than ours come through Verdaccio's uplink to the registry npm is configured with.
 * Each step prints its result; the script ends with `N passed, N failed`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addRelease, BOX_NAME, emptyCatalog, stringifyCatalog } from '@airy/box-catalog';
import semver from 'semver';
import { $, type ProcessOutput } from 'zx';
import { repo, workspacePackages } from './packages.ts';

$.quiet = true;
const NODE_MAJOR = process.versions.node.split('.')[0] as string;
const root = mkdtempSync(join(tmpdir(), 'airy-registry-'));
const results: { name: string; ok: boolean; detail: string }[] = [];
const cleanups: (() => Promise<unknown> | unknown)[] = [];

async function check(name: string, work: () => Promise<string>): Promise<void> {
  const started = Date.now();
  try {
    const detail = await work();
    results.push({ name, ok: true, detail });
    console.log(`ok    ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)${detail ? `: ${detail}` : ''}`);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    results.push({ name, ok: false, detail });
    console.log(`FAIL  ${name}: ${detail}`);
  }
}

const tail = (out: ProcessOutput) => `${out.stderr}\n${out.stdout}`.trim().split('\n').slice(-8).join('\n');
function expectOk(out: ProcessOutput, what: string): ProcessOutput {
  if (out.exitCode !== 0) throw new Error(`${what} exited ${out.exitCode}:\n${tail(out)}`);
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

try {
  const outside = workspacePackages().filter((p) => !semver.satisfies(process.version, p.engines.node ?? '*'));
  if (outside.length > 0) {
    const names = outside.map((p) => `${p.name} ${p.engines.node}`).join(', ');
    throw new Error(`Node.js ${process.version} is outside the engines of ${names}: run it as tools/with-node.sh 22 tsx ${process.argv[1]}`);
  }
  console.log(`node: ${process.version}`);

  // Verdaccio on loopback: our scope is served only from what we publish; everything else through the uplink.
  const port = await freePort();
  const registry = `http://127.0.0.1:${port}/`;
  const upstream = (await $`npm config get registry`).stdout.trim();
  const config = join(root, 'verdaccio.yaml');
  writeFileSync(
    config,
    [
      `storage: ${join(root, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${join(root, 'htpasswd')}`,
      '    max_users: 10',
      'uplinks:',
      '  upstream:',
      `    url: ${upstream}`,
      '    timeout: 60s',
      'packages:',
      "  '@airy/*':",
      '    access: $all',
      '    publish: $authenticated',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      '    proxy: upstream',
      'web:',
      '  enable: false',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  );
  const verdaccio = $({ nothrow: true })`${process.execPath} ${join(repo, 'node_modules/verdaccio/bin/verdaccio')} --config ${config} --listen 127.0.0.1:${port}`;
  cleanups.push(() => verdaccio.kill('SIGTERM'));
  for (let i = 0; ; i++) {
    const up = await fetch(`${registry}-/ping`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 100) throw new Error(`verdaccio did not answer on ${registry}:\n${verdaccio.stdout}${verdaccio.stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`registry: Verdaccio on ${registry}, uplink for other packages: the configured npm registry`);

  // A user for publishing; its token lives in a private npmrc.
  const user = await fetch(`${registry}-/user/org.couchdb.user:airy-ci`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'airy-ci', password: randomBytes(12).toString('hex') }),
  });
  const token = ((await user.json()) as { token?: string }).token;
  if (!token) throw new Error(`verdaccio made no user (HTTP ${user.status})`);
  const npmrc = join(root, 'npmrc');
  writeFileSync(npmrc, `registry=${registry}\n//127.0.0.1:${port}/:_authToken=${token}\n`, { mode: 0o600 });
  chmodSync(npmrc, 0o600);

  const packages = workspacePackages();
  await check(`publish ${packages.length} packages`, async () => {
    for (const pkg of packages) {
      expectOk(await $({ cwd: pkg.dir, nothrow: true })`npm publish --userconfig ${npmrc} --registry ${registry}`, `npm publish ${pkg.name}`);
    }
    return packages.map((p) => `${p.name}@${p.version}`).join(', ');
  });
  const version = packages[0]?.version as string;

  // What a user runs: Node 22 first on PATH, an empty folder, an empty npm cache, our registry.
  const userEnv = (dir: string) => ({
    ...process.env,
    npm_config_userconfig: npmrc,
    npm_config_registry: registry,
    npm_config_cache: join(dir, '.npm-cache'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  });
  const inFolder = (name: string) => {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    return $({ cwd: dir, env: userEnv(dir), nothrow: true });
  };

  await check('npx @airy/bootstrap --version in an empty folder: the version, and no npm warning', async () => {
    const out = expectOk(await inFolder('npx')`npx --yes @airy/bootstrap@${version} --version`, 'npx @airy/bootstrap --version');
    if (out.stdout.trim() !== version) throw new Error(`printed ${JSON.stringify(out.stdout.trim())}, not ${version}`);
    const warnings = out.stderr.split('\n').filter((l) => /warn|EBADENGINE/i.test(l));
    if (warnings.length > 0) throw new Error(`npm warned:\n${warnings.join('\n')}`);
    return out.stdout.trim();
  });

  await check('npx @airy/bootstrap download from a file catalog: verified', async () => {
    const dir = join(root, 'catalog');
    mkdirSync(dir, { recursive: true });
    const box = randomBytes(3 * 2 ** 20);
    writeFileSync(join(dir, 'box.box'), box);
    const sha256 = createHash('sha256').update(box).digest('hex');
    const entry = { name: 'libvirt', url: `file://${dir}/box.box`, checksum_type: 'sha256', checksum: sha256, architecture: 'amd64', size: box.length } as const;
    writeFileSync(join(dir, 'metadata.json'), stringifyCatalog(addRelease(emptyCatalog(BOX_NAME), '1.0.0', entry).catalog));
    const out = join(root, 'npx', 'downloaded.box');
    expectOk(
      await inFolder('npx')`npx --yes @airy/bootstrap@${version} download --catalog file://${dir}/metadata.json --allow-unsigned --provider libvirt --architecture amd64 --out ${out}`,
      'airy-bootstrap download',
    );
    const got = createHash('sha256').update(readFileSync(out)).digest('hex');
    if (got !== sha256) throw new Error('the downloaded box differs from the catalog entry');
    return `${box.length} bytes, sha256 matches`;
  });

  await check('a strict TypeScript project uses @airy/manifests (nodenext and bundler): typed objects, its own app and objects, validation', async () => {
    const $ts = inFolder('ts-project');
    const dir = join(root, 'ts-project');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    expectOk(await $ts`npm install --no-audit --no-fund @airy/manifests@${version} typescript@5.9.3 @types/node@${NODE_MAJOR}`, 'npm install');
    writeFileSync(
      join(dir, 'main.ts'),
      [
        "import { app, objectsOf, platformDocuments, renderPlatform, validateDocuments, withExtra } from '@airy/manifests';",
        // Without a password or an existing Secret the pods could not start: validation must say so.
        "const bare = await validateDocuments(platformDocuments(renderPlatform({ profile: 'local' })));",
        "if (!bare.problems.some((p) => p.message.includes('postgres-credentials'))) throw new Error('a missing database Secret passed validation');",
        "const platform = renderPlatform({ profile: 'local', postgres: { existingSecret: 'airy-db' } });",
        // Typed: no cast to change a rendered object.
        "const [api] = objectsOf(platform, 'Deployment', 'api-admin');",
        'if (api?.spec) api.spec.replicas = 2;',
        "const mine = withExtra(platform, app(platform.config, { name: 'billing', image: 'example/billing:1.4.2', port: 9000 }));",
        'const docs = platformDocuments(mine);',
        'const report = await validateDocuments(docs);',
        "console.log(docs.length + ' documents, ' + report.problems.length + ' problems');",
        'if (report.problems.length > 0) process.exit(1);',
        '',
      ].join('\n'),
    );
    const base = { strict: true, target: 'es2022', skipLibCheck: false, types: ['node'], outDir: 'out' };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...base, module: 'nodenext', moduleResolution: 'nodenext' }, files: ['main.ts'] }));
    writeFileSync(
      join(dir, 'tsconfig.bundler.json'),
      JSON.stringify({ compilerOptions: { ...base, module: 'esnext', moduleResolution: 'bundler', noEmit: true }, files: ['main.ts'] }),
    );
    expectOk(await $ts`npx tsc -p tsconfig.json`, 'tsc (nodenext)');
    expectOk(await $ts`npx tsc -p tsconfig.bundler.json`, 'tsc (bundler)');
    const run = expectOk(await $ts`node out/main.js`, 'the compiled project');
    if (!/ 0 problems$/.test(run.stdout.trim())) throw new Error(`unexpected output: ${run.stdout.trim()}`);
    return run.stdout.trim();
  });

  await check("CommonJS: require('@airy/manifests') loads the ESM package on Node 22", async () => {
    const dir = join(root, 'ts-project');
    writeFileSync(join(dir, 'main.cjs'), "const m = require('@airy/manifests'); console.log(typeof m.renderPlatform);\n");
    const out = expectOk(await inFolder('ts-project')`node main.cjs`, 'node main.cjs');
    if (out.stdout.trim() !== 'function') throw new Error(`require gave ${out.stdout.trim()}`);
    return 'renderPlatform is a function';
  });

  await check('airy-box from the installed package: --help, and packer validate of its shipped templates', async () => {
    const $box = inFolder('box');
    const dir = join(root, 'box');
    // A package.json of its own, so npm installs here and not into some folder above.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'box-user', private: true }));
    expectOk(await $box`npm install --no-audit --no-fund @airy/box-builder@${version}`, 'npm install @airy/box-builder');
    const installed = join(dir, 'node_modules/@airy/box-builder');
    if (!existsSync(join(installed, 'images/airy-core/sources.pkr.hcl'))) {
      const found = existsSync(installed) ? readdirSync(installed).join(' ') : 'nothing';
      throw new Error(`the installed package has no images/ (${installed} holds: ${found})`);
    }
    const help = expectOk(await $box`npx airy-box build --help`, 'airy-box build --help');
    if (!/--validate-only/.test(help.stdout)) throw new Error('airy-box build --help does not list its options');
    const packer = await $({ nothrow: true })`packer version`;
    if (packer.exitCode !== 0) return 'packer validate skipped: packer is not installed (bash tools/setup.sh)';
    writeFileSync(join(dir, 'base.qcow2'), randomBytes(4096));
    const validate = expectOk(
      await $box`npx airy-box build --validate-only --box-version ${version} --provider libvirt --accelerator tcg --base-image base.qcow2 --skip-downloads --out out`,
      'airy-box build --validate-only',
    );
    if (!/packer validate: the templates and options are valid/.test(validate.stderr)) throw new Error(`no validation line:\n${tail(validate)}`);
    return 'packer validate passed on node_modules/@airy/box-builder/images';
  });
} catch (error) {
  results.push({ name: 'setup', ok: false, detail: error instanceof Error ? error.message : String(error) });
  console.log(`FAIL  setup: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
}

const failed = results.filter((r) => !r.ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
