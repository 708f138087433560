/**
 * The root CHANGELOG.md, made from the packages' own CHANGELOGs that `changeset version` writes from the change
 * entries (.changeset/*.md): one section per release naming every package, each with its entries and nothing else
 * (no commit subjects, no dependency bumps of the fixed group). Pure: text in, text out.
 */

/** The root CHANGELOG's fixed head: what it is and where the entries come from. */
export const ROOT_HEAD = `# Changelog

Every published package carries one version and is released together, so each release below names all of them.
The entries are the change entries written with \`npx changeset\` (README.md, "Releases"); \`npx projen release:version\`
writes this file from the packages' own CHANGELOGs, and \`npx projen release:check\` fails when it was written another way.
`;

/**
 * A line of a package's CHANGELOG that only says the fixed group moved: `- Updated dependencies [hash]` and the
 * `- @airy/cli-kit@0.2.0` lines under it.
 */
const DEPENDENCY_BUMP = /^\s*-\s+(@[\w.-]+\/[\w.-]+@\S+|Updated dependencies\b.*)\s*$/;
/** changesets' default changelog starts an entry with the short hash of the commit that added it. */
const COMMIT_PREFIX = /^-\s+[0-9a-f]{7,40}:\s+/;

/** A change entry's frontmatter line: `"@airy/bootstrap": minor`. */
const ENTRY_LINE = /^\s*["']?(@[\w.-]+\/[\w.-]+)["']?\s*:\s*(\w+)\s*$/;
/** An entry's first line goes into every package's CHANGELOG as a list item: kept short enough to read. */
export const ENTRY_FIRST_LINE_MAX = 120;

/**
 * What is wrong with one pending change entry (`file`, its text), given the workspace's package names: one line
 * each, naming the file and how to fix it.
 */
export function entryProblems(file: string, text: string, packages: readonly string[]): string[] {
  const m = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text.replaceAll('\r\n', '\n'));
  if (!m) return [`${file}: no frontmatter (--- "@airy/name": patch|minor|major ---): write it with npx changeset`];
  const problems: string[] = [];
  for (const line of (m[1] as string).split('\n').filter((l) => l.trim() !== '')) {
    const e = ENTRY_LINE.exec(line);
    if (!e) problems.push(`${file}: "${line.trim()}" is no "@airy/name": patch|minor|major line`);
    else if (!packages.includes(e[1] as string)) problems.push(`${file}: ${e[1]} is not a package of this workspace (${packages.join(', ')})`);
    else if (!['patch', 'minor', 'major'].includes(e[2] as string)) problems.push(`${file}: ${e[1]}: ${e[2]} is no bump (patch, minor or major)`);
  }
  const summary = (m[2] as string).trim();
  const first = summary.split('\n')[0] ?? '';
  if (!summary) problems.push(`${file}: the entry says nothing: write what changed for a user below the frontmatter`);
  else if (first.length > ENTRY_FIRST_LINE_MAX) {
    problems.push(`${file}: the first line has ${first.length} characters (at most ${ENTRY_FIRST_LINE_MAX}): say it shorter, details on the next lines`);
  }
  return problems;
}

/** The body of `## version` in one package's CHANGELOG (up to the next `## `), or undefined when it has none. */
export function sectionOf(changelog: string, version: string): string | undefined {
  const lines = changelog.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${version}`);
  if (start < 0) return undefined;
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** The entries of one package's section, `Minor: text` (continuation lines kept, indented), without dependency bumps. */
export function entriesOf(section: string): string[] {
  const entries: string[] = [];
  let kind = '';
  let inDependencies = false;
  for (const line of section.split('\n')) {
    const heading = /^### (Major|Minor|Patch) Changes$/.exec(line.trim());
    if (heading) {
      kind = heading[1] as string;
      inDependencies = false;
      continue;
    }
    if (!kind || line.trim() === '') continue;
    if (DEPENDENCY_BUMP.test(line)) {
      inDependencies = true;
      continue;
    }
    if (line.startsWith('- ')) {
      inDependencies = false;
      entries.push(`- ${kind}: ${line.replace(COMMIT_PREFIX, '- ').slice(2)}`);
    } else if (!inDependencies && entries.length > 0) {
      entries[entries.length - 1] += `\n  ${line.trim()}`;
    }
  }
  return entries;
}

/** One release's section of the root CHANGELOG: every package, in the order given, with its entries. */
export function releaseSection(version: string, packages: readonly { name: string; changelog: string }[]): string {
  const parts = [`## ${version}`, ''];
  for (const p of packages) {
    const section = sectionOf(p.changelog, version);
    if (section === undefined) throw new Error(`${p.name}'s CHANGELOG.md has no section for ${version}: run npx projen release:version`);
    const entries = entriesOf(section);
    parts.push(`### ${p.name}`, '', ...(entries.length > 0 ? entries : ['No changes of its own.']), '');
  }
  return parts.join('\n');
}

/** The root CHANGELOG with `section` as its newest release: replaces that version's section, or goes on top. */
export function withSection(root: string, version: string, section: string): string {
  const rest = root.startsWith(ROOT_HEAD) ? root.slice(ROOT_HEAD.length) : '';
  const sections = rest.split(/\n(?=## )/).map((s) => s.trim()).filter((s) => s.startsWith('## '));
  const others = sections.filter((s) => s.split('\n')[0]?.trim() !== `## ${version}`);
  return `${ROOT_HEAD}\n${[section.trim(), ...others].join('\n\n')}\n`;
}
