/** The workspace's publishable packages, read from their package.json files, dependencies first. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../..', import.meta.url));

/** One publishable package of the workspace. */
export interface WorkspacePackage {
  readonly name: string;
  readonly version: string;
  readonly dir: string;
  readonly bin: Record<string, string>;
  readonly dependencies: Record<string, string>;
  readonly engines: { node?: string };
}

/**
 * Every package under `root`/packages/ (this repository's by default), ordered so that a package comes after the Airy
 * packages it depends on.
 */
export function workspacePackages(root = repo): WorkspacePackage[] {
  const all = readdirSync(join(root, 'packages')).map((folder) => {
    const dir = join(root, 'packages', folder);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    return { name: pkg.name, version: pkg.version, dir, bin: pkg.bin ?? {}, dependencies: pkg.dependencies ?? {}, engines: pkg.engines ?? {} };
  });
  const ordered: WorkspacePackage[] = [];
  const visit = (p: WorkspacePackage) => {
    if (ordered.includes(p)) return;
    for (const dep of Object.keys(p.dependencies)) {
      const inner = all.find((q) => q.name === dep);
      if (inner) visit(inner);
    }
    ordered.push(p);
  };
  for (const p of all) visit(p);
  return ordered;
}
