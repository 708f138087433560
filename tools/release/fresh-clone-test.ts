#!/usr/bin/env tsx
/**
 * First contact: clones the repository (its committed HEAD) into an empty folder and runs the README's main command
 * there, exactly as written, with an empty npm cache, as an unprivileged user (the main command needs no root; when
 * this runs as root, the command runs as `nobody` through setpriv). Then checks that npm warned of nothing (engines,
 * install scripts), that every CLI was linked from the workspace (so `npx <cli>` can never fall back to a registry
 * package of the same name) and that the command's output is there.
 * Ends with `N passed, N failed`.
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
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
  const home = join(dir, 'home');
  mkdirSync(home);
  // Root: the folder becomes nobody's, and the command runs as nobody, with no groups.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    chmodSync(dir, 0o755);
    await $`chown -R 65534:65534 ${clone} ${home}`;
  }
  const user = asRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'] : [];
  const started = Date.now();
  const run = await $({
    cwd: clone,
    nothrow: true,
    env: {
      ...process.env,
      // The machine's own Node, not the one tools/with-node.sh put first for CI: the command must bring its own.
      PATH: (process.env.PATH ?? '').split(':').filter((p) => p !== process.env.AIRY_WITH_NODE_BIN).join(':'),
      HOME: home,
      npm_config_cache: join(home, 'npm-cache'),
      // A Node that tools/with-node.sh brings lands in the user's own folder, as on a new machine.
      AIRY_NODE_CACHE: join(home, 'node'),
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
    },
  })`${user} bash -c ${main}`;
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  const who = asRoot ? 'as nobody (no root)' : `as uid ${process.getuid?.()}`;
  report(run.exitCode === 0, `the README's main command in a fresh clone with an empty npm cache, ${who} (${seconds} s): exit ${run.exitCode}`);
  if (run.exitCode !== 0) console.log(`${run.stdout}\n${run.stderr}`.trim().split('\n').slice(-15).join('\n'));
  const warnings = `${run.stdout}\n${run.stderr}`.split('\n').filter((l) => /^npm warn/i.test(l));
  report(warnings.length === 0, `npm warned of nothing${warnings.length ? `: ${warnings.slice(0, 3).join(' | ')}` : ''}`);
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
