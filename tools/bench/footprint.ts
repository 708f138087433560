#!/usr/bin/env tsx
/**
 * The install footprint of the two laptop CLIs, `npx @airy/bootstrap` and `airy-tunnel`: every package is packed,
 * then each is installed from the tarballs into an empty folder with an empty npm cache (third-party packages from
 * the configured registry), as `npx` would. Printed: packages, bytes on disk, and the cold `--help` time (median).
 * The peer is the former design, where each also pulled @airy/manifests (and its Kubernetes schemas) in; it is
 * measured in the same run. Goals: bootstrap at most 20 packages and 8 MB; the tunnel no Kubernetes code, and no
 * more than bootstrap's footprint plus ngrok's own (its native module).
 *
 * Usage: npx projen bench:footprint   (BENCH_RUNS=N changes the number of --help runs, default 5)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workspacePackages } from '../release/packages.ts';
import { medianMs, printTable } from './table.ts';

const runs = Number(process.env.BENCH_RUNS ?? 5);
const root = mkdtempSync(join(tmpdir(), 'airy-footprint-'));
const GOAL = { packages: 20, bytes: 8 * 1000 * 1000 };

function pack(): Map<string, string> {
  const tarballs = new Map<string, string>();
  const out = join(root, 'tarballs');
  mkdirSync(out);
  for (const pkg of workspacePackages()) {
    const [info] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: pkg.dir, encoding: 'utf8' }));
    tarballs.set(pkg.name, join(out, info.filename));
  }
  return tarballs;
}

/** Installs `names` (from the tarballs) into an empty folder with an empty cache; returns its measurements. */
async function measure(label: string, names: string[], tarballs: Map<string, string>, binName = 'airy-bootstrap') {
  const dir = join(root, label);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), '{"name":"footprint","private":true}');
  const files = names.map((n) => tarballs.get(n) as string);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', '--cache', join(dir, '.cache'), ...files], { cwd: dir, stdio: 'ignore' });
  const list = execFileSync('npm', ['ls', '--all', '--parseable', '--omit=dev'], { cwd: dir, encoding: 'utf8' }).trim().split('\n');
  const packages = list.length - 1; // the folder itself is the first line
  const bytes = Number(execFileSync('du', ['-sb', join(dir, 'node_modules')], { encoding: 'utf8' }).split('\t')[0]);
  const bin = join(dir, 'node_modules', '.bin', binName);
  const help = await medianMs(runs, () => {
    const run = spawnSync(bin, ['--help'], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`${binName} --help failed: ${run.stderr}`);
  });
  const kubernetes = list.some((p) => /kubernetes-models/.test(p));
  // ngrok's own: its package and the native module of this platform.
  const ngrok = list.filter((p) => /node_modules\/@ngrok\//.test(p));
  const ngrokBytes = ngrok.reduce((sum, p) => sum + Number(execFileSync('du', ['-sb', p], { encoding: 'utf8' }).split('\t')[0]), 0);
  return { packages, bytes, help, kubernetes, ngrokPackages: ngrok.length, ngrokBytes };
}

try {
  const tarballs = pack();
  const bootstrapDeps = ['@airy/bootstrap', '@airy/cli-kit', '@airy/box-catalog'];
  const ours = await measure('ours', bootstrapDeps, tarballs);
  const before = await measure('with-manifests', [...bootstrapDeps, '@airy/manifests'], tarballs);
  printTable('npx @airy/bootstrap: install footprint (from packed tarballs, empty folder and cache)', 'bootstrap + @airy/manifests (the former closure)', [
    { task: 'packages installed', ours: ours.packages, peer: before.packages, unit: '', lowerIsBetter: true },
    { task: 'bytes on disk', ours: ours.bytes / 1e6, peer: before.bytes / 1e6, unit: 'MB', lowerIsBetter: true },
    { task: 'cold airy-bootstrap --help', ours: ours.help, peer: before.help, unit: 'ms', lowerIsBetter: true },
  ]);
  const tunnelDeps = ['@airy/ngrok-tunnel', '@airy/cli-kit'];
  const tunnel = await measure('tunnel', tunnelDeps, tarballs, 'airy-tunnel');
  const tunnelBefore = await measure('tunnel-with-manifests', [...tunnelDeps, '@airy/manifests', '@airy/box-catalog'], tarballs, 'airy-tunnel');
  printTable('airy-tunnel: install footprint (from packed tarballs, empty folder and cache)', 'tunnel + @airy/manifests (the former closure)', [
    { task: 'packages installed', ours: tunnel.packages, peer: tunnelBefore.packages, unit: '', lowerIsBetter: true },
    { task: 'bytes on disk', ours: tunnel.bytes / 1e6, peer: tunnelBefore.bytes / 1e6, unit: 'MB', lowerIsBetter: true },
    { task: 'of which ngrok (its native module)', ours: tunnel.ngrokBytes / 1e6, peer: tunnelBefore.ngrokBytes / 1e6, unit: 'MB', lowerIsBetter: true },
    { task: 'cold airy-tunnel --help', ours: tunnel.help, peer: tunnelBefore.help, unit: 'ms', lowerIsBetter: true },
  ]);
  const met = ours.packages <= GOAL.packages && ours.bytes <= GOAL.bytes && !ours.kubernetes;
  console.log(
    `\ngoal: at most ${GOAL.packages} packages and ${GOAL.bytes / 1e6} MB, no kubernetes-models: ${met ? 'met' : 'NOT met'} ` +
      `(${ours.packages} packages, ${(ours.bytes / 1e6).toFixed(1)} MB, kubernetes-models ${ours.kubernetes ? 'present' : 'absent'})`,
  );
  // As light as bootstrap: what it installs beyond ngrok's own packages is within bootstrap's goal.
  const tunnelMet =
    !tunnel.kubernetes && tunnel.packages - tunnel.ngrokPackages <= GOAL.packages && tunnel.bytes - tunnel.ngrokBytes <= GOAL.bytes;
  console.log(
    `goal (tunnel): no kubernetes-models, and besides ngrok's ${tunnel.ngrokPackages} packages (${(tunnel.ngrokBytes / 1e6).toFixed(1)} MB) ` +
      `within bootstrap's: ${tunnelMet ? 'met' : 'NOT met'} (${tunnel.packages} packages, ${(tunnel.bytes / 1e6).toFixed(1)} MB)`,
  );
  process.exitCode = met && tunnelMet ? 0 : 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
