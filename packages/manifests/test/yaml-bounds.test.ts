/**
 * YAML from outside within bounds: each hostile shape (deep nesting, many aliases, many keys, many documents) is
 * refused by a cheap pre-scan or read in one linear pass, and ordinary YAML reads exactly as the parser reads it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { parseYamlBounded, YAML_LIMITS, YamlBoundsError } from '../src/yaml-bounds.ts';

const MiB = 2 ** 20;
const refused = (text: string, bound: string, message: RegExp) => {
  try {
    parseYamlBounded(text);
  } catch (error) {
    assert.instance(error, YamlBoundsError);
    assert.is((error as YamlBoundsError).bound, bound);
    assert.match((error as Error).message, message);
    return;
  }
  assert.unreachable(`${bound}: not refused`);
};
const only = (text: string) => {
  const docs = parseYamlBounded(text);
  assert.is(docs.length, 1);
  return docs[0] as ReturnType<typeof parseYamlBounded>[number];
};

test('nesting: 8 MiB of flow nesting is refused before parsing (the parser would exhaust the heap); 64 levels read', () => {
  refused('['.repeat(8 * MiB), 'nesting', /flow collections nested deeper than 64 levels/);
  refused(`a: ${'{b: '.repeat(65)}c${'}'.repeat(65)}\n`, 'nesting', /deeper than 64/);
  // Brackets inside quotes and comments are not nesting.
  assert.equal(only(`a: "${'['.repeat(100)}"\nb: '${'{'.repeat(100)}' # ${'['.repeat(100)}\n`), { ok: true, value: { a: '['.repeat(100), b: '{'.repeat(100) } });
  const deep = `${'['.repeat(64)}1${']'.repeat(64)}`;
  assert.ok(only(deep).ok);
});

test('nesting: block nesting past the bound is a problem of its document', () => {
  const block = Array.from({ length: 70 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n');
  assert.equal(only(`${block} leaf\n`), { ok: false, error: 'collections nested deeper than 64 levels' });
  const fine = Array.from({ length: 60 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n');
  assert.ok(only(`${fine} leaf\n`).ok);
});

test('aliases: more than 100 are refused before any is resolved (each resolution walks the document)', () => {
  const pairs = (n: number) => Array.from({ length: n }, (_, i) => `- &a${i} x\n- *a${i}\n`).join('');
  refused(pairs(YAML_LIMITS.aliases + 1), 'aliases', /more than 100 aliases/);
  refused(pairs(100_000), 'aliases', /more than 100 aliases/);
  const ok = only(pairs(YAML_LIMITS.aliases));
  assert.ok(ok.ok && Array.isArray(ok.value) && ok.value.length === 200 && ok.value[199] === 'x');
  // The billion laughs stay bounded by what one alias may expand to.
  const laughs = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)].join('\n');
  const bomb = only(laughs);
  assert.ok(!bomb.ok && /alias/i.test(bomb.error), JSON.stringify(bomb));
});

test('keys: a key twice in one mapping is a problem, checked in one pass (the parser compares every pair)', () => {
  assert.equal(only('a: 1\nb: {a: 2, c: 3}\na: 4\n'), { ok: false, error: 'Map keys must be unique: "a" appears twice' });
  // YAML's 1 and "1" become the same JavaScript key: one would silently replace the other.
  assert.equal(only('1: x\n"1": y\n'), { ok: false, error: 'Map keys must be unique: "1" appears twice' });
  // 120,000 distinct keys (about 1.2 MiB, the parser alone: minutes) are read.
  const keys = Array.from({ length: 120_000 }, (_, i) => `k${i}: v`).join('\n');
  const read = only(keys);
  assert.ok(read.ok && Object.keys(read.value as object).length === 120_000);
});

test('scalars and documents: a text past either is refused before it is parsed', () => {
  refused(Array.from({ length: 130_000 }, (_, i) => `k${i}: v`).join('\n'), 'scalars', /more than 250000 keys and values: split it/);
  refused('---\na: 1\n'.repeat(YAML_LIMITS.documents + 1), 'documents', /more than 5000 documents/);
  assert.is(parseYamlBounded('---\na: 1\n'.repeat(YAML_LIMITS.documents)).length, YAML_LIMITS.documents);
});

test('ordinary YAML: every rendered file of the box reads exactly as the parser reads it', () => {
  const dir = new URL('../../../infrastructure/deployments/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 5);
  for (const f of files) {
    const text = readFileSync(new URL(f, dir), 'utf8');
    const ours = parseYamlBounded(text);
    const theirs = parseAllDocuments(text).map((d) => d.toJS());
    assert.equal(ours, theirs.map((value) => ({ ok: true, value })), f);
  }
  assert.equal(parseYamlBounded(''), []);
});

test.run();
