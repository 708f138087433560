#!/usr/bin/env tsx
/**
 * The release, the npm way, for every package at once.
 *
 *   tsx tools/release/release.ts bump patch|minor|major   next version in projenrc/versions.ts, npx projen, CHANGELOG
 *   tsx tools/release/release.ts dry-run                  pack each package and `npm publish --dry-run` the tarball
 *
 * The dry run checks what would really be published: the version, public access, the file list (lib/, the bin
 * entry, README, LICENSE; box-builder's images/), no test files and no source map comment without its map.
 * Nothing is published from here.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import semver from 'semver';
import { $, argv } from 'zx';
import { repo, workspacePackages } from './packages.ts';

$.quiet = true;
const fail = (message: string): never => {
  console.error(`release: ${message}`);
  process.exit(1);
};

async function bump(kind: string): Promise<void> {
  if (!['patch', 'minor', 'major'].includes(kind)) fail(`bump ${kind}: use patch, minor or major`);
  const file = join(repo, 'projenrc/versions.ts');
  const text = readFileSync(file, 'utf8');
  const match = /(export const RELEASE = \{\s*version: ')([^']+)(')/.exec(text);
  if (!match) return fail('projenrc/versions.ts has no RELEASE.version');
  const current = match[2] as string;
  const next = semver.inc(current, kind as semver.ReleaseType) ?? fail(`cannot bump ${current}`);
  writeFileSync(file, text.replace(match[0], `${match[1]}${next}${match[3]}`));
  await $({ cwd: repo })`npx projen`;
  // The CHANGELOG gets the commit subjects since the last release tag.
  const lastTag = (await $({ cwd: repo, nothrow: true })`git describe --tags --abbrev=0 --match v*`).stdout.trim();
  const range = lastTag ? [`${lastTag}..HEAD`] : [];
  const subjects = (await $({ cwd: repo })`git log --format=%s ${range}`).stdout.trim().split('\n').filter(Boolean);
  const changelog = join(repo, 'CHANGELOG.md');
  const before = readFileSync(changelog, 'utf8').replace(/^# Changelog\n+/, '');
  const section = [`## ${next} (${new Date().toISOString().slice(0, 10)})`, '', ...subjects.map((s) => `- ${s}`), ''].join('\n');
  writeFileSync(changelog, `# Changelog\n\n${section}\n${before}`);
  console.log(`release: ${current} → ${next}; review CHANGELOG.md, then: git commit -am "release ${next}" && git tag v${next}`);
}

/** What a tarball must and must not hold. */
function checkFiles(name: string, files: string[], bins: string[]): string[] {
  const problems: string[] = [];
  for (const needed of ['package.json', 'README.md', 'LICENSE', 'lib/index.js', 'lib/index.d.ts', ...bins]) {
    if (!files.includes(needed)) problems.push(`${name}: ${needed} is missing`);
  }
  if (name === '@airy/box-builder' && !files.some((f) => /^images\/airy-core\/.*\.pkr\.hcl$/.test(f))) {
    problems.push(`${name}: the Packer templates (images/airy-core/*.pkr.hcl) are missing`);
  }
  for (const f of files) {
    if (/\.map$|(^|\/)test\/|\.test\./.test(f)) problems.push(`${name}: ${f} should not be published`);
  }
  return problems;
}

async function dryRun(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'airy-release-'));
  const problems: string[] = [];
  const rows: string[][] = [];
  try {
    for (const pkg of workspacePackages()) {
      // A real pack (prepack compiles first), so the check sees exactly the tarball that would be published.
      const packed = JSON.parse((await $({ cwd: pkg.dir })`npm pack --json --pack-destination ${out}`).stdout) as {
        filename: string;
        size: number;
        files: { path: string }[];
      }[];
      const info = packed[0] ?? fail(`npm pack ${pkg.name} printed nothing`);
      const tarball = join(out, info.filename);
      const files = info.files.map((f) => f.path).sort();
      problems.push(...checkFiles(pkg.name, files, Object.values(pkg.bin)));
      const unpacked = join(out, pkg.name.replace('/', '-'));
      await $`mkdir -p ${unpacked} && tar -xzf ${tarball} -C ${unpacked}`;
      const mapped = (await $({ nothrow: true })`grep -rl sourceMappingURL ${unpacked}`).stdout.trim();
      if (mapped) problems.push(`${pkg.name}: a source map comment without its map in ${mapped.split('\n').length} file(s)`);
      const manifest = JSON.parse(readFileSync(join(unpacked, 'package', 'package.json'), 'utf8'));
      for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) {
        if (dep.startsWith('@airy/') && range !== `^${pkg.version}`) problems.push(`${pkg.name}: depends on ${dep}@${range}, not ^${pkg.version}`);
      }
      const publish = await $({ cwd: out, nothrow: true })`npm publish --dry-run ${tarball}`;
      const said = publish.stdout + publish.stderr;
      const access = /with tag \S+ and (\w+) access/.exec(said)?.[1] ?? 'unknown';
      if (publish.exitCode !== 0) problems.push(`${pkg.name}: npm publish --dry-run failed: ${said.trim().split('\n').at(-1)}`);
      if (access !== 'public') problems.push(`${pkg.name}: would publish with ${access} access`);
      rows.push([pkg.name, pkg.version, access, String(files.length), `${(info.size / 1024).toFixed(0)} KiB`, pkg.engines.node ?? '']);
      console.log(`${pkg.name}@${pkg.version}: ${files.join(' ')}`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const header = ['package', 'version', 'access', 'files', 'packed', 'node'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  '));
  if (problems.length > 0) {
    for (const p of problems) console.error(`release: ${p}`);
    process.exit(1);
  }
  console.log('release: dry run ok, nothing was published');
}

const [command, kind] = argv._.map(String);
if (command === 'bump') await bump(kind ?? '');
else if (command === 'dry-run') await dryRun();
else fail('usage: release.ts bump patch|minor|major | dry-run');
