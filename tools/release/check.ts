#!/usr/bin/env tsx
/**
 * npx projen release:check [-- --tag vX.Y.Z]: the CHANGELOGs come from the change entries (see flow.ts,
 * releaseProblems). Run in CI (npx projen lint) and by the release workflow with its tag. Exit 1 with one line per
 * problem; exit 2 for a bad argument.
 */
import { releaseProblems } from './flow.ts';
import { repo } from './packages.ts';

// projen passes what follows its own `--` on, that `--` included.
const args = process.argv.slice(2).filter((a) => a !== '--');
const at = args.findIndex((a) => a === '--tag' || a.startsWith('--tag='));
const tag = at < 0 ? undefined : (args[at] as string).startsWith('--tag=') ? (args[at] as string).slice(6) : args[at + 1];
const unknown = args.filter((_, i) => i !== at && !(i === at + 1 && args[at] === '--tag'));
if ((at >= 0 && !tag) || unknown.length > 0) {
  console.error(`release: usage: npx projen release:check [-- --tag v1.2.3]${unknown.length > 0 ? ` (not understood: ${unknown.join(' ')})` : ''}`);
  process.exit(2);
}
let problems: string[];
try {
  problems = releaseProblems(repo, tag);
} catch (error) {
  problems = [(error as Error).message.split('\n')[0] as string];
}
for (const p of problems) console.error(`release: ${p}`);
if (problems.length > 0) process.exit(1);
console.log(`release: the CHANGELOGs come from the change entries${tag ? `, and ${tag} is their version` : ''}`);
