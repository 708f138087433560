#!/usr/bin/env tsx
/**
 * Runs every package's uvu tests through Nx and ends with one line: `N passed, N failed, N skipped`.
 * Exits non-zero when a test failed, a package's tests crashed before reporting, or no test ran.
 * Extra arguments go to `nx run-many` (e.g. `--projects manifests`).
 *
 * `--direct --projects a,b`: each package's tests run with uvu itself, in its folder, without npm or Nx: for a Node
 * older than the workspace's (the light packages on Node 20), where npm and Nx warn about the workspace's engines:
 * only the tests and that Node meet. Their dependencies must be compiled already (the main run does it).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $, argv } from 'zx';
import { readFileSync } from 'node:fs';
import { parseKnownSkips, summarize, unexpectedSkips } from './testing/summary.ts';

$.verbose = true;
const repo = fileURLToPath(new URL('..', import.meta.url));
// The kubectl of the box's Kubernetes version, built by tools/control-plane/build.sh (tools/setup.sh runs it):
// tests that run kubectl get that one, never whatever kubectl the machine happens to have.
process.env.PATH = `${join(repo, 'tools', 'control-plane', 'bin')}:${process.env.PATH}`;
let output = '';
let exitCode = 0;
if (argv.direct) {
  const projects = String(argv.projects ?? '').split(',').filter(Boolean);
  if (projects.length === 0) throw new Error('--direct needs --projects a,b');
  for (const project of projects) {
    const run = await $({ cwd: join(repo, 'packages', project), nothrow: true })`tsx ../../node_modules/uvu/bin.js test \\.test\\.ts$`;
    output += run.stdout + run.stderr;
    exitCode ||= run.exitCode ?? 1;
  }
} else {
  const extra = argv._.map(String);
  const run = await $`npx nx run-many -t test --outputStyle=stream ${extra}`.nothrow();
  output = run.stdout + run.stderr;
  exitCode = run.exitCode ?? 1;
}
const summary = summarize(output, exitCode);
// In CI every tool a test needs is installed: a skip beyond the listed ones means an install step broke.
const skipProblems = process.env.CI === 'true' ? unexpectedSkips(summary, parseKnownSkips(readFileSync(join(repo, 'tools', 'testing', 'known-skips.txt'), 'utf8'))) : [];

for (const note of summary.notes) console.log(`note: ${note}`);
for (const problem of skipProblems) console.log(`note: CI: ${problem} (tools/testing/known-skips.txt lists the allowed ones)`);
console.log(`${summary.passed} passed, ${summary.failed + (skipProblems.length > 0 ? 1 : 0)} failed, ${summary.skipped} skipped`);
process.exitCode = summary.ok && skipProblems.length === 0 ? 0 : 1;
