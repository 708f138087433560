#!/usr/bin/env tsx
/**
 * Writes the exit-code table of every README from @airy/cli-kit's registry, between its markers
 * `<!-- exit-codes[:cli] … -->` and `<!-- /exit-codes -->`. With --check it changes nothing and fails when a table
 * is stale (a test runs that).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitCodeTable } from '@airy/cli-kit';

const repo = fileURLToPath(new URL('..', import.meta.url));
const READMES = ['README.md', 'packages/bootstrap/README.md', 'packages/box-builder/README.md', 'packages/manifests/README.md', 'packages/ngrok-tunnel/README.md', 'packages/cli-kit/README.md'];
const BLOCK = () => /(<!-- exit-codes(?::([a-z-]+))? [^\n]*-->\n)[\s\S]*?(<!-- \/exit-codes -->)/g;

/** Each README's text with its tables written from the registry. */
export function withTables(text: string): string {
  return text.replace(BLOCK(), (_all, open: string, cli: string | undefined, close: string) => `${open}${exitCodeTable(cli)}\n${close}`);
}

/** The READMEs whose tables differ from the registry. */
export function staleReadmes(): string[] {
  return READMES.filter((f) => {
    const text = readFileSync(join(repo, f), 'utf8');
    return BLOCK().test(text) ? withTables(text) !== text : true;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const stale = staleReadmes();
  if (check) {
    for (const f of stale) console.error(`exit-codes: ${f} has no table or a stale one: run npx projen docs:exit-codes`);
    process.exitCode = stale.length > 0 ? 1 : 0;
  } else {
    for (const f of stale) writeFileSync(join(repo, f), withTables(readFileSync(join(repo, f), 'utf8')));
    console.log(`exit-codes: ${stale.length} README(s) rewritten`);
  }
}
