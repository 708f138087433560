/**
 * The release flow's reads and writes of a workspace (this repository, or a copy in a test): the pending change
 * entries, the packages' CHANGELOGs, the root CHANGELOG and RELEASE.version in projenrc/versions.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { entryProblems, releaseSection, ROOT_HEAD, sectionOf } from './changelog.ts';
import { workspacePackages } from './packages.ts';

/** RELEASE.version as projenrc/versions.ts writes it. */
const RELEASE_VERSION = /(export const RELEASE = \{\s*version: ')([^']+)(')/;

export function releaseVersion(versionsTs: string): string {
  const m = RELEASE_VERSION.exec(versionsTs);
  if (!m) throw new Error('projenrc/versions.ts has no RELEASE.version');
  return m[2] as string;
}

export function withReleaseVersion(versionsTs: string, version: string): string {
  releaseVersion(versionsTs);
  return versionsTs.replace(RELEASE_VERSION, `$1${version}$3`);
}

/** The pending change entries: .changeset/*.md but its README. */
export function pendingEntries(root: string): string[] {
  const dir = join(root, '.changeset');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md').sort().map((f) => join('.changeset', f));
}

/** Each package with its CHANGELOG.md ('' when it has none), by name. */
export function packageChangelogs(root: string): { name: string; version: string; changelog: string }[] {
  const byName = workspacePackages(root).sort((a, b) => a.name.localeCompare(b.name));
  return byName.map((p) => {
    const file = join(p.dir, 'CHANGELOG.md');
    return { name: p.name, version: p.version, changelog: existsSync(file) ? readFileSync(file, 'utf8') : '' };
  });
}

/**
 * What says the CHANGELOGs did not come from the change entries, one line each: a package on another version than
 * RELEASE.version, a package CHANGELOG without that version's section, a root CHANGELOG whose section is not the one
 * the packages' CHANGELOGs make, a malformed pending entry; with `tag` (the release's git tag), a tag of another
 * version and entries still pending (they would be left out of the release).
 */
export function releaseProblems(root: string, tag?: string): string[] {
  const problems: string[] = [];
  const version = releaseVersion(readFileSync(join(root, 'projenrc/versions.ts'), 'utf8'));
  const packages = packageChangelogs(root);
  for (const p of packages) {
    if (p.version !== version) problems.push(`${p.name} is at ${p.version}, RELEASE.version is ${version}: run npx projen release:version`);
    if (sectionOf(p.changelog, version) === undefined) problems.push(`${p.name}'s CHANGELOG.md has no "## ${version}": run npx projen release:version`);
  }
  const names = packages.map((p) => p.name);
  for (const file of pendingEntries(root)) problems.push(...entryProblems(file, readFileSync(join(root, file), 'utf8'), names));
  if (problems.length === 0) {
    const written = readFileSync(join(root, 'CHANGELOG.md'), 'utf8');
    const expected = sectionOf(releaseSection(version, packages), version)?.trim();
    if (!written.startsWith(ROOT_HEAD) || sectionOf(written, version)?.trim() !== expected) {
      problems.push(`CHANGELOG.md's ${version} is not the one the packages' CHANGELOGs make: run npx projen release:version, never edit it by hand`);
    }
  }
  if (tag !== undefined) {
    if (tag !== `v${version}`) problems.push(`the tag ${tag} is not v${version} (RELEASE.version)`);
    const pending = pendingEntries(root);
    if (pending.length > 0) problems.push(`${pending.length} change entries are still pending (${pending.join(', ')}): run npx projen release:version before tagging`);
  }
  return problems;
}
