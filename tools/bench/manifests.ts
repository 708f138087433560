#!/usr/bin/env tsx
/**
 * Benchmark: render plus validate the whole production platform (target: under 1 s as two cold CLI runs), side by
 * side with `kubectl kustomize` building the same folder. The CLI runs through its bin, as users run it (with the
 * compile cache the bin turns on). Medians of 7 runs. Run: `npx projen bench:manifests`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { platformObjects, renderFiles, renderPlatform, validateDocuments, writeRendered } from '@airy/manifests';
import { medianMs, printTable, type Row } from './table.ts';

const RUNS = 7;
const cli = fileURLToPath(new URL('../../packages/manifests/bin/airy-manifests.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'airy-bench-manifests-'));
const production = { profile: 'production', postgres: { password: 'benchmark-password-0123456789' } } as const;

try {
  const inProcess = await medianMs(RUNS, async () => {
    const platform = renderPlatform(production);
    const docs = platformObjects(platform).map((object, index) => ({ file: 'p', index, object }));
    const report = await validateDocuments(docs);
    if (report.problems.length) throw new Error('the production platform did not validate');
  });
  const render = () => execFileSync(process.execPath, [cli, 'render', '--profile', 'production', '--plain-http', '--out', dir], { stdio: 'ignore' });
  const validate = () => execFileSync(process.execPath, [cli, 'validate', dir], { stdio: 'ignore' });
  const renderMs = await medianMs(RUNS, render);
  const validateMs = await medianMs(RUNS, validate);
  const viaCli = await medianMs(RUNS, () => {
    render();
    validate();
  });
  await writeRendered(dir, renderFiles(renderPlatform(production)));
  const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
  const kustomize = hasKubectl
    ? await medianMs(RUNS, () => execFileSync('kubectl', ['kustomize', dir], { stdio: 'ignore' }))
    : undefined;
  if (!hasKubectl) console.log('kubectl is not installed: the peer column is empty');

  const rows: Row[] = [
    { task: 'render + validate, production, in process', ours: inProcess, peer: kustomize, unit: 'ms', lowerIsBetter: true },
    { task: 'render, production, one cold CLI run', ours: renderMs, peer: kustomize, unit: 'ms', lowerIsBetter: true },
    { task: 'validate, production, one cold CLI run', ours: validateMs, peer: kustomize, unit: 'ms', lowerIsBetter: true },
    { task: 'render + validate, production, two cold CLI runs', ours: viaCli, peer: kustomize, unit: 'ms', lowerIsBetter: true },
  ];
  printTable(`airy-manifests vs kubectl kustomize (median of ${RUNS}; kustomize only builds, it validates nothing)`, 'kubectl kustomize', rows);
  const verdict = viaCli < 1000 ? 'met' : 'MISSED';
  // The machine may be shared: its load says how far to trust the figures.
  console.log(`load average (1, 5, 15 min): ${loadavg().map((l) => l.toFixed(2)).join(', ')}`);
  console.log(`\ntarget: render + validate of the production platform under 1 s (CLI, cold processes): ${verdict}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
