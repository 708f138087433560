#!/usr/bin/env tsx
/**
 * Runs every package's uvu tests through Nx and ends with one line: `N passed, N failed, N skipped`.
 * Exits non-zero when a test failed, a package's tests crashed before reporting, or no test ran.
 * Extra arguments go to `nx run-many` (e.g. `--projects manifests`).
 */
import { $, argv } from 'zx';
import { summarize } from './testing/summary.ts';

$.verbose = true;
const extra = argv._.map(String);
const run = await $`npx nx run-many -t test --outputStyle=stream ${extra}`.nothrow();
const summary = summarize(run.stdout + run.stderr, run.exitCode ?? 1);

for (const note of summary.notes) console.log(`note: ${note}`);
console.log(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
process.exitCode = summary.ok ? 0 : 1;
