import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { staleReadmes } from '../../../tools/exit-codes.ts';
import { didYouMean, duration, formatDuration, ExitCode, exitCodeTable, lineSplitter, lineTail, printable, printableJson, readTunnelState, redact, shellQuote, shellWord, startProgress, writeFileAtomic, writeTunnelState } from '../src/index.ts';
import { EXIT_CODE_MEANINGS } from '../src/exit-codes.ts';

const dir = mkdtempSync(join(tmpdir(), 'airy-cli-kit-'));
const repo = fileURLToPath(new URL('../../..', import.meta.url));

test('one registry: every code has one meaning, and every README table is generated from it', () => {
  const codes = Object.values(ExitCode);
  assert.equal(new Set(codes).size, codes.length, 'no code is used twice');
  assert.equal(EXIT_CODE_MEANINGS.map((e) => e.code).sort((a, b) => a - b), [...codes].sort((a, b) => a - b));
  assert.match(exitCodeTable('airy-tunnel'), /\| 12 \| ngrok cannot be reached \|/);
  assert.not.match(exitCodeTable('airy-manifests'), /\| 12 \|/);
  assert.equal(staleReadmes(), [], 'run npx projen docs:exit-codes');
});

test("bootstrap.sh exits only with the registry's codes, meaning what the registry says", () => {
  const script = readFileSync(join(repo, 'infrastructure/scripts/bootstrap.sh'), 'utf8');
  const exits = [...script.matchAll(/exit (\d+)/g)].map((m) => Number(m[1]));
  assert.ok(exits.length > 0);
  for (const code of exits) assert.ok((Object.values(ExitCode) as number[]).includes(code), `exit ${code} is not in the registry`);
  // Its exits are all "Node.js is missing or too old": a preflight failure.
  assert.ok(exits.every((c) => c === ExitCode.preflight));
});

test('redact: secret env values, extra values and URL passwords', () => {
  process.env.NGROK_AUTHTOKEN = 'tok-123456789';
  assert.is(redact('token tok-123456789 and x-secret-x', ['x-secret-x']), 'token *** and ***');
  assert.is(redact('GET https://user:p4ss@host.test/a and s3://k:v@b/c'), 'GET https://user:***@host.test/a and s3://k:***@b/c');
  assert.is(redact('https://host.test/a?b=c@d'), 'https://host.test/a?b=c@d', 'an @ in the query is no password');
  delete process.env.NGROK_AUTHTOKEN;
});

test('writeFileAtomic: the mode from the start, the whole text, and a link at the path is replaced, not followed', async () => {
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'keep');
  const path = join(dir, 'secret.json');
  symlinkSync(victim, path);
  await writeFileAtomic(path, '{"a":1}', { mode: 0o600 });
  assert.is(readFileSync(victim, 'utf8'), 'keep');
  assert.not.ok(lstatSync(path).isSymbolicLink());
  assert.is(statSync(path).mode & 0o777, 0o600);
  assert.is(readFileSync(path, 'utf8'), '{"a":1}');
});

test('the tunnel state file: private, and a dead process reads as stopped', async () => {
  const path = join(dir, 'tunnel', 'state.json');
  // Written plainly: console.log colours a number when an earlier test left FORCE_COLOR set.
  const gone = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
  await writeTunnelState(path, { state: 'online', pid: gone, target: 'http://u:p@x', webhooks: {}, startedAt: 1, reconnects: 0 });
  assert.is(statSync(path).mode & 0o777, 0o600);
  assert.is((await readTunnelState(path))?.state, 'stopped');
});

test('progress without a known total prints bytes and speed, never a percentage', () => {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (l: string) => lines.push(l) } as unknown as NodeJS.WriteStream;
  const progress = startProgress({ label: 'download', total: -1, stream, interval: 0 });
  progress.update(5 * 2 ** 20);
  progress.stop();
  assert.match(lines[0] ?? '', /^download: 5\.0 MiB of an unknown size, .*\/s\n$/);
  assert.not.match(lines.join(''), /%/);
});

test('lines: split from chunks, a last line without newline kept; the tail keeps the last N and passes each on', () => {
  const seen: string[] = [];
  const tail = lineTail(2, (l) => seen.push(l));
  const split = lineSplitter(tail.push);
  split.write('a\nb');
  split.write('c\nd\n');
  split.write(Buffer.from('e'));
  split.end();
  assert.equal(seen, ['a', 'bc', 'd', 'e']);
  assert.equal(tail.lines, ['d', 'e']);
});

test('duration: 90s, 10m, 1h, and a bare number in the unit the option always had; formatDuration says it back', () => {
  const wait = duration('--wait');
  assert.is(wait('90s'), 90);
  assert.is(wait('10m'), 600);
  assert.is(wait('1h'), 3600);
  assert.is(wait('20'), 1200, 'a bare number keeps meaning minutes');
  assert.is(wait('0'), 0);
  assert.is(duration('--timeout', 's')('30'), 30);
  for (const bad of ['soon', '-5', '1.5m', '10d', '']) assert.throws(() => wait(bad), /--wait .*a duration such as 90s, 20m or 1h/);
  assert.is(formatDuration(15), '15 s');
  assert.is(formatDuration(1200), '20 min');
  assert.is(formatDuration(5430), '1 h 30 min 30 s');
});

test('didYouMean: a typo (letters swapped, one missing) is near; an unrelated word or a short one is not', () => {
  const commands = ['status', 'stop', 'start', 'destroy', 'upgrade'];
  assert.is(didYouMean('stauts', commands), 'status');
  assert.is(didYouMean('destory', commands), 'destroy');
  assert.is(didYouMean('upgrad', commands), 'upgrade');
  assert.is(didYouMean('profle', ['profile', 'domain', 'namespace']), 'profile');
  assert.is(didYouMean('xyzzy', commands), undefined);
  assert.is(didYouMean('ab', ['cd']), undefined);
  assert.is(didYouMean('stauts', []), undefined);
});

test('runCli under --json: a failure is one JSON object on stdout and one line on stderr, with its exit code', () => {
  // A program of its own, in a child (runCli ends the process): it fails with a CliError of exit code 3.
  const script = join(dir, 'json-failure.mts');
  writeFileSync(
    script,
    [
      `import { createProgram, runCli, CliError } from ${JSON.stringify(join(repo, 'packages/cli-kit/src/index.ts'))};`,
      "const program = createProgram({ name: 'demo', description: 'a demo', version: '1.2.3' });",
      "program.command('check').option('--json', 'print JSON').action(() => { throw new CliError('the host is too small', 3); });",
      'await runCli(program);',
    ].join('\n'),
  );
  const tsx = join(repo, 'node_modules/.bin/tsx');
  const run = spawnSync(tsx, [script, 'check', '--json'], { encoding: 'utf8' });
  assert.is(run.status, 3, run.stderr);
  assert.equal(JSON.parse(run.stdout), { ok: false, error: 'the host is too small', exitCode: 3 });
  assert.is(run.stderr, 'demo: the host is too small\n');
  const plain = spawnSync(tsx, [script, 'check'], { encoding: 'utf8' });
  assert.is(plain.status, 3);
  assert.is(plain.stdout, '');
});

test('printable: C0 controls, ESC, DEL and C1 controls become visible escapes; JSON keeps its meaning', () => {
  const title = '1.0.0\x1b]0;owned\x07';
  const clipboard = '\x1b]52;c;ZXZpbA==\x1b\\';
  assert.is(printable(title), '1.0.0\\x1b]0;owned\\x07');
  assert.is(printable(clipboard), '\\x1b]52;c;ZXZpbA==\\x1b\\');
  assert.is(printable('a\nb\rc\td\x7fe\x9b2Jf\x85'), 'a\\nb\\rc\\td\\x7fe\\x9b2Jf\\x85');
  assert.is(printable('plain: airy/core 1.2.3 (libvirt) https://h.test/a?b=c — ünïcode'), 'plain: airy/core 1.2.3 (libvirt) https://h.test/a?b=c — ünïcode');
  const json = printableJson({ v: 'x\x9b2J\x1b[31m\x7f' });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the test
  assert.not.match(json, /[\u0000-\u001f\u007f-\u009f]/);
  assert.equal(JSON.parse(json), { v: 'x\x9b2J\x1b[31m\x7f' });
});

test('runCli: an error quoting a hostile string prints it escaped, on stderr and in --json', () => {
  const script = join(dir, 'hostile-failure.mts');
  writeFileSync(
    script,
    [
      `import { createProgram, runCli, CliError } from ${JSON.stringify(join(repo, 'packages/cli-kit/src/index.ts'))};`,
      "const program = createProgram({ name: 'demo', description: 'a demo', version: '1.2.3' });",
      "program.command('check').option('--json', 'print JSON').action(() => { throw new CliError('unknown provider \"\\x1b]0;owned\\x07\\x9b2J\"', 1); });",
      'await runCli(program);',
    ].join('\n'),
  );
  const tsx = join(repo, 'node_modules/.bin/tsx');
  const run = spawnSync(tsx, [script, 'check', '--json'], { encoding: 'utf8' });
  assert.is(run.status, 1, run.stderr);
  assert.is(run.stderr, 'demo: unknown provider "\\x1b]0;owned\\x07\\x9b2J"\n');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the test
  assert.not.match(run.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  assert.is(JSON.parse(run.stdout).error, 'unknown provider "\x1b]0;owned\x07\x9b2J"');
});

test('stopAtOnce: SIGTERM ends a command busy on the CPU at once, by the signal, instead of after its work', async () => {
  const script = join(dir, 'busy.mts');
  writeFileSync(
    script,
    [
      `import { createProgram, runCli, stopAtOnce } from ${JSON.stringify(join(repo, 'packages/cli-kit/src/index.ts'))};`,
      "const program = createProgram({ name: 'demo', description: 'a demo', version: '1.2.3' });",
      "program.hook('preAction', stopAtOnce);",
      // Synchronous work, as a large parse is: no handler could run before it ends (bounded, so a failure ends too).
      "program.command('busy').action(() => { process.stderr.write('busy\\n'); const end = Date.now() + 60_000; while (Date.now() < end) JSON.parse('[1,2,3]'); process.stderr.write('done\\n'); });",
      'await runCli(program);',
    ].join('\n'),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script, 'busy'], { cwd: repo, timeout: 120_000 });
  let stderr = '';
  const busy = new Promise<void>((resolve) =>
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      if (stderr.includes('busy')) resolve();
    }),
  );
  const closed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  await busy;
  child.kill('SIGTERM');
  assert.is(await closed, 'SIGTERM');
  assert.not.match(stderr, /done/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('shell words: plain ones printed as they are, any other quoted so that bash reads it back as itself', () => {
  assert.is(shellWord('out/platform-1.2'), 'out/platform-1.2');
  for (const word of ["my folder", "it's", '$(touch /tmp/x)', '`id`', 'a;b', '~root', '*', '', 'new\nline']) {
    const printed = shellWord(word);
    assert.is.not(printed, word, word);
    const read = spawnSync('bash', ['-c', `printf %s ${printed}`], { encoding: 'utf8' });
    assert.is(read.stdout, word, printed);
    assert.is(shellQuote(word), printed);
  }
});

test.run();
