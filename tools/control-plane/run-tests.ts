#!/usr/bin/env tsx
/**
 * The cluster suite (`npx projen test:cluster`): every tools/control-plane/test/*.test.ts with uvu, each file
 * against control planes of its own, ending with one line: `N passed, N failed, N skipped`. Exits non-zero when a
 * test failed, a file crashed before reporting, or no test ran.
 */
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';
import { summarize } from '../testing/summary.ts';

$.verbose = true;
const repo = fileURLToPath(new URL('../..', import.meta.url));
const started = Date.now();
const run = await $({ cwd: repo, nothrow: true })`tsx node_modules/uvu/bin.js tools/control-plane/test \\.test\\.ts$`;
const summary = summarize(run.stdout + run.stderr, run.exitCode ?? 1);
for (const note of summary.notes) console.log(`note: ${note}`);
console.log(`cluster suite: ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
process.exitCode = summary.ok ? 0 : 1;
