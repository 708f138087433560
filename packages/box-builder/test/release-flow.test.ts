/**
 * The release flow (tools/release): change entries → `changeset version` → one version for all six packages and a
 * root CHANGELOG naming each of them, with the entries' words only; `release:check` refusing CHANGELOGs written
 * any other way. Run on a copy of the workspace's manifests with the real changesets CLI.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ENTRY_FIRST_LINE_MAX, entryProblems, releaseSection, withSection } from '../../../tools/release/changelog.ts';
import { packageChangelogs, releaseProblems, releaseVersion, withReleaseVersion } from '../../../tools/release/flow.ts';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'airy-release-flow-'));
const NAMES = ['@airy/bootstrap', '@airy/box-builder', '@airy/box-catalog', '@airy/cli-kit', '@airy/manifests', '@airy/ngrok-tunnel'];

/** A copy of what the release flow reads and writes: the manifests, the CHANGELOGs, versions.ts and the config. */
function copyWorkspace(): string {
  const root = mkdtempSync(join(work, 'ws-'));
  for (const file of ['package.json', 'package-lock.json', 'CHANGELOG.md', 'projenrc/versions.ts', '.changeset/config.json']) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    cpSync(join(repo, file), join(root, file));
  }
  for (const folder of readdirSync(join(repo, 'packages'))) {
    mkdirSync(join(root, 'packages', folder), { recursive: true });
    for (const file of ['package.json', 'CHANGELOG.md']) cpSync(join(repo, 'packages', folder, file), join(root, 'packages', folder, file));
  }
  // changesets loads its changelog module from the workspace.
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  const git = (...args: string[]) => spawnSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], { cwd: root });
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'a commit subject that must never reach a CHANGELOG');
  return root;
}

test('the repository: six packages, one version, and the CHANGELOGs made by the flow', () => {
  const packages = packageChangelogs(repo);
  assert.equal(packages.map((p) => p.name), NAMES);
  assert.equal(releaseProblems(repo), []);
  const root = readFileSync(join(repo, 'CHANGELOG.md'), 'utf8');
  for (const name of NAMES) assert.ok(root.includes(`### ${name}\n`), `CHANGELOG.md names ${name}`);
});

test('changeset version on a copy: every package gets the version and the root CHANGELOG its entries, nothing else', () => {
  const root = copyWorkspace();
  writeFileSync(join(root, '.changeset/brave-fox.md'), '---\n"@airy/bootstrap": minor\n---\n\n`upgrade` keeps the old VM when the new box cannot be downloaded.\n');
  writeFileSync(join(root, '.changeset/calm-owl.md'), "---\n'@airy/cli-kit': patch\n---\n\nLocks name their owner.\nA second line, with detail.\n");
  assert.equal(releaseProblems(root), [], 'pending well-formed entries are fine between releases');
  assert.equal(releaseProblems(root, 'v0.1.0').length, 1, 'but not at a tag: they would be left out');

  const run = spawnSync(join(root, 'node_modules/.bin/changeset'), ['version'], { cwd: root, encoding: 'utf8' });
  assert.is(run.status, 0, run.stderr);
  const packages = packageChangelogs(root);
  assert.equal(packages.map((p) => p.version), NAMES.map(() => '0.2.0'), 'the fixed group moves together');
  // Not yet: RELEASE.version and the root CHANGELOG still say 0.1.0.
  assert.ok(releaseProblems(root).some((p) => p.includes('RELEASE.version is 0.1.0')));

  // What tools/release/version.ts does after `changeset version`, without its `npx projen`.
  const versionsTs = join(root, 'projenrc/versions.ts');
  writeFileSync(versionsTs, withReleaseVersion(readFileSync(versionsTs, 'utf8'), '0.2.0'));
  assert.is(releaseVersion(readFileSync(versionsTs, 'utf8')), '0.2.0');
  const section = releaseSection('0.2.0', packages);
  const changelog = join(root, 'CHANGELOG.md');
  writeFileSync(changelog, withSection(readFileSync(changelog, 'utf8'), '0.2.0', section));

  const written = readFileSync(changelog, 'utf8');
  for (const name of NAMES) assert.ok(written.includes(`### ${name}\n`), `${name} is listed`);
  assert.ok(written.includes('- Minor: `upgrade` keeps the old VM when the new box cannot be downloaded.'));
  assert.ok(written.includes('- Patch: Locks name their owner.\n  A second line, with detail.'));
  assert.ok(/### @airy\/manifests\n\nNo changes of its own\./.test(written), 'a package without entries says so');
  assert.not.match(written, /commit subject/);
  assert.not.match(written, /@airy\/[\w-]+@0\.2\.0/, 'no dependency-bump lines');
  assert.not.match(written, /\b[0-9a-f]{7}:/, 'no commit hashes');
  assert.ok(written.indexOf('## 0.2.0') < written.indexOf('## 0.1.0'), 'the new release on top, the old one kept');
  assert.equal(releaseProblems(root), []);
  assert.equal(releaseProblems(root, 'v0.2.0'), []);
  assert.equal(releaseProblems(root, 'v0.3.0'), ['the tag v0.3.0 is not v0.2.0 (RELEASE.version)']);
  // Written again, the same file: the section is replaced, not added twice.
  writeFileSync(changelog, withSection(written, '0.2.0', section));
  assert.is(readFileSync(changelog, 'utf8'), written);

  // The old way, commit subjects pasted into the root CHANGELOG, is refused.
  writeFileSync(changelog, written.replace('## 0.2.0\n', '## 0.2.0\n\n- e2e: boots with the private network and checks the default route and node address\n'));
  assert.equal(releaseProblems(root).length, 1);
  assert.match(releaseProblems(root)[0] ?? '', /CHANGELOG\.md's 0\.2\.0 is not the one the packages' CHANGELOGs make: run npx projen release:version/);
});

test('release:check as CI and the release workflow run it: projen passes `-- --tag vX.Y.Z` on', () => {
  const check = (...args: string[]) =>
    spawnSync(process.execPath, [join(repo, 'node_modules/tsx/dist/cli.mjs'), join(repo, 'tools/release/check.ts'), ...args], { cwd: repo, encoding: 'utf8' });
  const version = releaseVersion(readFileSync(join(repo, 'projenrc/versions.ts'), 'utf8'));
  let run = check('--', '--tag', `v${version}`);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, new RegExp(`v${version.replaceAll('.', '\\.')} is their version`));
  run = check('--', '--tag', 'v99.0.0');
  assert.is(run.status, 1);
  assert.is(run.stderr, `release: the tag v99.0.0 is not v${version} (RELEASE.version)\n`);
  run = check('--', '--tag');
  assert.is(run.status, 2);
  assert.match(run.stderr, /^release: usage: /);
});

test('a malformed change entry is named by its file, with how to fix it', () => {
  const check = (text: string) => entryProblems('.changeset/x.md', text, NAMES);
  assert.equal(check('---\n"@airy/bootstrap": minor\n---\n\nFine.\n'), []);
  assert.match(check('no frontmatter')[0] ?? '', /^\.changeset\/x\.md: no frontmatter .*npx changeset$/);
  assert.match(check('---\n"@airy/nope": minor\n---\n\nx\n')[0] ?? '', /@airy\/nope is not a package of this workspace/);
  assert.match(check('---\n"@airy/bootstrap": huge\n---\n\nx\n')[0] ?? '', /huge is no bump/);
  assert.match(check('---\n"@airy/bootstrap": minor\n---\n\n')[0] ?? '', /the entry says nothing/);
  assert.match(check(`---\n"@airy/bootstrap": minor\n---\n\n${'x'.repeat(ENTRY_FIRST_LINE_MAX + 1)}\n`)[0] ?? '', /at most 120/);
});

test.after(() => (process.env.KEEP ? undefined : rmSync(work, { recursive: true, force: true })));
test.run();
