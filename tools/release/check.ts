#!/usr/bin/env tsx
/**
 * npx projen release:check [-- --tag vX.Y.Z]: the CHANGELOGs come from the change entries (see flow.ts,
 * releaseProblems). Run in CI (npx projen lint) and by the release workflow with its tag. Exit 1 with one line per
 * problem.
 */
import { argv } from 'zx';
import { releaseProblems } from './flow.ts';
import { repo } from './packages.ts';

let problems: string[];
try {
  problems = releaseProblems(repo, argv.tag === undefined ? undefined : String(argv.tag));
} catch (error) {
  problems = [(error as Error).message.split('\n')[0] as string];
}
for (const p of problems) console.error(`release: ${p}`);
if (problems.length > 0) process.exit(1);
console.log('release: the CHANGELOGs come from the change entries');
