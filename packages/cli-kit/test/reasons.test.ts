/**
 * The registry of reasons: one entry per id, each with a documented exit code and one line of advice; runCli, the one
 * place where a reason becomes a line and an exit code; and the library errors of cli-kit itself (the lock, the
 * question) naming reasons, not exit codes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reasonTable, withTables } from '../../../tools/exit-codes.ts';
import { EXIT_CODE_MEANINGS } from '../src/exit-codes.ts';
import { acquireLock, AiryError, confirm, LockedError, REASONS } from '../src/index.ts';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'airy-reasons-'));

test('every reason has a unique id, an exit code its CLIs document, one line of advice, and a doc that exists', () => {
  const ids = REASONS.map((r) => r.id);
  assert.equal(ids.filter((id, i) => ids.indexOf(id) !== i), [], 'an id is used twice');
  for (const r of REASONS) {
    assert.match(r.id, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, `${r.id}: an id is UPPER_SNAKE_CASE`);
    assert.ok(r.clis.length > 0, `${r.id}: no CLI uses it`);
    for (const cli of r.clis) {
      // Documented for this CLI: a shared code, or one of its own.
      const meaning = EXIT_CODE_MEANINGS.find((e) => e.code === r.exitCode && (e.cli === undefined || e.cli === cli));
      assert.ok(meaning, `${r.id}: exit ${r.exitCode} is not documented for ${cli}`);
    }
    assert.ok((r.exitCode as number) !== 0, `${r.id}: a failure never exits 0`);
    assert.ok(r.advice.length > 0 && !r.advice.includes('\n'), `${r.id}: advice is one line`);
    if ('doc' in r) {
      const [path = '', anchor] = r.doc.split('#');
      assert.ok(existsSync(join(repo, path)), `${r.id}: ${path} does not exist`);
      const headings = readFileSync(join(repo, path), 'utf8').split('\n').filter((l) => l.startsWith('#'));
      const slug = (h: string) => h.replace(/^#+\s*/, '').toLowerCase().replace(/[^a-z0-9 -]/g, '').replaceAll(' ', '-');
      if (anchor) assert.ok(headings.some((h) => slug(h) === anchor), `${r.id}: ${path} has no heading #${anchor}`);
    }
  }
  // The ids that tests, READMEs and bug reports already name keep their codes.
  const code = (id: string) => REASONS.find((r) => r.id === id)?.exitCode;
  assert.is(code('RSRC_INSUFFICIENT_VM_CPUS'), 3);
  assert.is(code('PROVIDER_LIBVIRT_NOT_USABLE'), 3);
  assert.is(code('TUF_ROOT_INVALID'), 2);
  assert.is(code('TUF_BAD_SIGNATURE'), 1);
  assert.is(code('KEYS_MISSING'), 2);
  assert.is(code('TUNNEL_UPSTREAM_DOWN'), 14);
});

test("a README's reason table lists the CLI's reasons from the registry, and a stale one is rewritten", () => {
  const table = reasonTable('airy-tunnel', 'packages/ngrok-tunnel/README.md');
  assert.match(table, /^\| reason \| exit code \| what to do \|/);
  assert.match(table, /\| `TUNNEL_NO_NETWORK` \| 12 \| check the internet connection/);
  assert.not.match(table, /RSRC_/);
  const stale = '<!-- reasons:airy-tunnel (generated) -->\n| reason | exit code | what to do |\n| `TUNNEL_NO_NETWORK` | 99 | old |\n<!-- /reasons -->\n';
  assert.is(withTables(stale, 'packages/ngrok-tunnel/README.md'), `<!-- reasons:airy-tunnel (generated) -->\n${table}\n<!-- /reasons -->\n`);
  // A doc in the README itself links to its own heading.
  assert.match(reasonTable('airy-bootstrap', 'packages/bootstrap/README.md'), /\(\[more\]\(#troubleshooting\)\)/);
});

/** Runs a program of its own in a child (runCli ends the process) whose `fail` command throws `thrown`. */
function runFailing(thrown: string, args: readonly string[]) {
  const script = join(dir, `fail-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(
    script,
    [
      `import { AiryError, createProgram, runCli } from ${JSON.stringify(join(repo, 'packages/cli-kit/src/index.ts'))};`,
      "const program = createProgram({ name: 'demo', description: 'a demo', version: '1.2.3' });",
      `program.command('fail').option('--json', 'print JSON').action(() => { throw ${thrown}; });`,
      'await runCli(program);',
    ].join('\n'),
  );
  return spawnSync(join(repo, 'node_modules/.bin/tsx'), [script, 'fail', ...args], { encoding: 'utf8' });
}

test("runCli: an AiryError is one line ending in its reason, with the registry's exit code (and the reason under --json)", () => {
  const thrown = "new AiryError('RSRC_INSUFFICIENT_VM_CPUS', 'the VM is too small: pass --cpus 3', { detail: 'checked: 2 CPUs' })";
  const run = runFailing(thrown, []);
  assert.is(run.status, 3, run.stderr);
  assert.is(run.stderr, 'demo: the VM is too small: pass --cpus 3 [RSRC_INSUFFICIENT_VM_CPUS]\n');
  const json = runFailing(thrown, ['--json']);
  assert.is(json.status, 3);
  assert.equal(JSON.parse(json.stdout), { ok: false, error: 'the VM is too small: pass --cpus 3 [RSRC_INSUFFICIENT_VM_CPUS]', reason: 'RSRC_INSUFFICIENT_VM_CPUS', exitCode: 3 });
  const verbose = runFailing(thrown, ['--verbose']);
  assert.is(verbose.stderr, 'demo: the VM is too small: pass --cpus 3 [RSRC_INSUFFICIENT_VM_CPUS]\nchecked: 2 CPUs\n');
  // A line that names its reason already does not repeat it.
  const named = runFailing("new AiryError('TUNNEL_UPSTREAM_DOWN', 'refused (TUNNEL_UPSTREAM_DOWN): nothing answers')", []);
  assert.is(named.status, 14);
  assert.is(named.stderr, 'demo: refused (TUNNEL_UPSTREAM_DOWN): nothing answers\n');
});

test('the lock and the question are library errors: they name a reason and carry no exit code', async () => {
  const lock = join(dir, 'lock');
  const release = await acquireLock(lock);
  try {
    const refused = await acquireLock(lock).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(refused instanceof LockedError && refused instanceof AiryError, String(refused));
    assert.is(refused.reason, 'LOCKED');
    assert.not.ok('exitCode' in refused);
  } finally {
    await release();
  }
  assert.ok(new LockedError('/x', 1) instanceof AiryError);
});

(process.stdin.isTTY ? test.skip : test)('confirm without a terminal: ANSWER_NEEDED, naming --yes (skipped on a terminal, where it would ask)', async () => {
  const error = await confirm('recreate the VM?').then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof AiryError, String(error));
  assert.is(error.reason, 'ANSWER_NEEDED');
  assert.match(error.message, /pass --yes/);
  assert.not.ok('exitCode' in error);
});
if (process.stdin.isTTY) console.log('skip: stdin is a terminal, so confirm would ask instead of refusing');

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
