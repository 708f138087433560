#!/usr/bin/env tsx
/**
 * After `changeset version` (npx projen release:version runs both): the version it gave the fixed group becomes
 * RELEASE.version in projenrc/versions.ts (the one home projen writes every package.json from), projen runs, and the
 * root CHANGELOG.md gets that release's section from the packages' own CHANGELOGs. Running it again changes nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';
import { releaseSection, withSection } from './changelog.ts';
import { packageChangelogs, releaseVersion, withReleaseVersion } from './flow.ts';
import { repo } from './packages.ts';

try {
  const packages = packageChangelogs(repo);
  const versions = [...new Set(packages.map((p) => p.version))];
  if (versions.length !== 1) throw new Error(`the packages are on ${versions.join(', ')}: .changeset/config.json must keep them one fixed group`);
  const version = versions[0] as string;
  const file = join(repo, 'projenrc/versions.ts');
  const text = readFileSync(file, 'utf8');
  const before = releaseVersion(text);
  if (before !== version) {
    writeFileSync(file, withReleaseVersion(text, version));
    await $({ cwd: repo, stdio: 'inherit' })`npx projen`;
  }
  const changelog = join(repo, 'CHANGELOG.md');
  writeFileSync(changelog, withSection(readFileSync(changelog, 'utf8'), version, releaseSection(version, packages)));
  console.log(`release: ${before} → ${version}; review the CHANGELOGs, commit, then tag v${version} (README.md, "Releases")`);
} catch (error) {
  console.error(`release: ${(error as Error).message.split('\n')[0]}`);
  process.exit(1);
}
