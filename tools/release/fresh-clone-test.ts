#!/usr/bin/env tsx
/**
 * First contact: clones the repository (its committed HEAD) into an empty folder and runs the README's main command
 * there, exactly as written, with an empty npm cache. Then checks that every CLI was linked from the workspace (so
 * `npx <cli>` can never fall back to a registry package of the same name) and that the command's output is there.
 * Ends with `N passed, N failed`.
 */
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { $ } from 'zx';
import { repo, workspacePackages } from './packages.ts';

$.quiet = true;
const dir = mkdtempSync(join(tmpdir(), 'airy-fresh-clone-'));
let passed = 0;
let failed = 0;
const report = (ok: boolean, line: string) => {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'}  ${line}`);
};

try {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const main = /<!-- main-command -->\n```sh\n(.+)\n```/.exec(readme)?.[1];
  if (!main) throw new Error('README.md has no main command after <!-- main-command -->');
  await $`git clone --quiet ${repo} ${join(dir, 'repo')}`;
  const clone = join(dir, 'repo');
  const started = Date.now();
  const run = await $({
    cwd: clone,
    nothrow: true,
    env: { ...process.env, npm_config_cache: join(dir, 'npm-cache'), NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
  })`bash -c ${main}`;
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  report(run.exitCode === 0, `the README's main command in a fresh clone with an empty npm cache (${seconds} s): exit ${run.exitCode}`);
  if (run.exitCode !== 0) console.log(`${run.stdout}\n${run.stderr}`.trim().split('\n').slice(-15).join('\n'));
  const registryAsked = /404|E404|Need to install the following packages/.test(run.stderr);
  report(!registryAsked, 'npx never asked a registry for a workspace CLI');
  for (const pkg of workspacePackages()) {
    for (const [bin, entry] of Object.entries(pkg.bin)) {
      const link = join(clone, 'node_modules/.bin', bin);
      const target = lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink() ? readlinkSync(link) : '(missing)';
      report(target.endsWith(join(pkg.name, entry)), `${bin} is linked from the workspace: ${target}`);
    }
  }
  const rendered = lstatSync(join(clone, 'out/local/kustomization.yaml'), { throwIfNoEntry: false });
  report(Boolean(rendered?.isFile()), 'the main command rendered out/local');
} catch (error) {
  report(false, error instanceof Error ? error.message : String(error));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
