#!/usr/bin/env tsx
/**
 * The release's dry run, for every package at once (the version and CHANGELOGs come from changesets: version.ts).
 *
 *   tsx tools/release/release.ts dry-run   pack each package and `npm publish --dry-run` the tarball
 *
 * The dry run checks what would really be published: the version, public access, the file list (lib/, the bin
 * entry, README, CHANGELOG, LICENSE; box-builder's images/), no test files and no source map comment without its map.
 * Nothing is published from here.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { $, argv } from 'zx';
import { workspacePackages } from './packages.ts';

$.quiet = true;
const fail = (message: string): never => {
  console.error(`release: ${message}`);
  process.exit(1);
};

/** What a tarball must and must not hold. */
function checkFiles(name: string, files: string[], bins: string[]): string[] {
  const problems: string[] = [];
  for (const needed of ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE', 'lib/index.js', 'lib/index.d.ts', ...bins]) {
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

const [command] = argv._.map(String);
if (command === 'dry-run') await dryRun();
else fail('usage: release.ts dry-run');
