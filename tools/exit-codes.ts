#!/usr/bin/env tsx
/**
 * Writes the exit-code table and the troubleshooting table of reasons of every README from @airy/cli-kit's
 * registries, between the markers `<!-- exit-codes[:cli] … -->` … `<!-- /exit-codes -->` and
 * `<!-- reasons:cli … -->` … `<!-- /reasons -->`. With --check it changes nothing and fails when a table is stale
 * (a test runs that).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitCodeTable, REASONS } from '@airy/cli-kit';

const repo = fileURLToPath(new URL('..', import.meta.url));
const READMES = ['README.md', 'packages/bootstrap/README.md', 'packages/box-builder/README.md', 'packages/manifests/README.md', 'packages/ngrok-tunnel/README.md', 'packages/cli-kit/README.md'];
const BLOCK = () => /(<!-- exit-codes(?::([a-z-]+))? [^\n]*-->\n)[\s\S]*?(<!-- \/exit-codes -->)/g;
const REASON_BLOCK = () => /(<!-- reasons:([a-z-]+) [^\n]*-->\n)[\s\S]*?(<!-- \/reasons -->)/g;

/** A table cell: a `|` would end it. */
const cell = (text: string) => text.replaceAll('|', '\\|');

/** The Markdown table of the reasons `cli` may fail with, for the README at `readme` (its links are relative to it). */
export function reasonTable(cli: string, readme: string): string {
  const link = (doc: string) => {
    const [path = '', anchor] = doc.split('#');
    const target = relative(dirname(readme), path) || '.';
    return ` ([more](${target === 'README.md' && anchor ? '' : target}${anchor ? `#${anchor}` : ''}))`;
  };
  const rows = REASONS.filter((r) => (r.clis as readonly string[]).includes(cli)).map(
    (r) => `| \`${r.id}\` | ${r.exitCode} | ${cell(r.advice)}${'doc' in r ? link(r.doc) : ''} |`,
  );
  return ['| reason | exit code | what to do |', '|---|---|---|', ...rows].join('\n');
}

/** Each README's text with its tables written from the registries; `readme` is its path in the repository. */
export function withTables(text: string, readme = 'README.md'): string {
  return text
    .replace(BLOCK(), (_all, open: string, cli: string | undefined, close: string) => `${open}${exitCodeTable(cli)}\n${close}`)
    .replace(REASON_BLOCK(), (_all, open: string, cli: string, close: string) => `${open}${reasonTable(cli, readme)}\n${close}`);
}

/** The CLIs whose READMEs must hold a table of reasons. */
const REASON_READMES: Readonly<Record<string, string>> = {
  'packages/bootstrap/README.md': 'airy-bootstrap',
  'packages/box-builder/README.md': 'airy-box',
  'packages/manifests/README.md': 'airy-manifests',
  'packages/ngrok-tunnel/README.md': 'airy-tunnel',
};

/** The READMEs whose tables differ from the registry. */
export function staleReadmes(): string[] {
  return READMES.filter((f) => {
    const text = readFileSync(join(repo, f), 'utf8');
    const cli = REASON_READMES[f];
    const hasReasons = cli === undefined || text.includes(`<!-- reasons:${cli} `);
    return BLOCK().test(text) && hasReasons ? withTables(text, f) !== text : true;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const stale = staleReadmes();
  if (check) {
    for (const f of stale) console.error(`exit-codes: ${f} lacks a table or has a stale one: run npx projen docs:exit-codes`);
    process.exitCode = stale.length > 0 ? 1 : 0;
  } else {
    for (const f of stale) writeFileSync(join(repo, f), withTables(readFileSync(join(repo, f), 'utf8'), f));
    console.log(`exit-codes: ${stale.length} README(s) rewritten`);
  }
}
