/** Test helpers shared by every package's tests: running a package's real, compiled bin. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

/** The outcome of one run of a bin. */
export interface BinRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly bin: Record<string, string>;
}

/**
 * The environment a bin runs in: plain output (NO_COLOR), without the FORCE_COLOR that Nx sets for its tasks (Node 22
 * warns on stderr when both are set, which is not the CLI's output).
 */
function binEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { FORCE_COLOR: _ignored, ...env } = process.env;
  return { ...env, NO_COLOR: '1', ...extra };
}

/** Reads a package's package.json. */
export function packageJson(packageDir: string): PackageJson {
  return JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as PackageJson;
}

/** Runs the package's single bin (the compiled `lib/cli.js`) with `args`. */
export function runBin(
  packageDir: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {},
): BinRun {
  const [file] = Object.values(packageJson(packageDir).bin);
  if (!file) throw new Error(`${packageDir} has no bin`);
  const result = spawnSync(process.execPath, [join(packageDir, file), ...args], {
    encoding: 'utf8',
    env: binEnv(options.env),
    input: options.input,
    cwd: options.cwd,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Debian's bash-completion, which the completion scripts of bash use (as on every desktop Linux and Homebrew). */
const BASH_COMPLETION = '/usr/share/bash-completion/bash_completion';

/**
 * What bash offers after `words` (the last one is the word being completed): the bin's own `completion bash` script,
 * sourced into a real bash with bash-completion, its function called as the shell calls it on Tab.
 */
export function bashCompletes(packageDir: string, words: readonly string[]): string[] {
  const pkg = packageJson(packageDir);
  const [[binName, file] = []] = Object.entries(pkg.bin);
  if (!binName || !file) throw new Error(`${packageDir} has no bin`);
  // The script asks the program by its name, as a user's installed bin: put one on PATH.
  const bin = mkdtempSync(join(tmpdir(), 'airy-completion-'));
  try {
    writeFileSync(join(bin, binName), `#!/bin/sh\nexec '${process.execPath}' '${join(packageDir, file)}' "$@"\n`, { mode: 0o755 });
    const line = [binName, ...words].join(' ');
    const script = [
      `source ${BASH_COMPLETION}`,
      `source <(${binName} completion bash) || exit 9`,
      `spec=$(complete -p ${binName}) || exit 8`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's own parameter expansion
      'fn=${spec#*-F }; fn=${fn%% *}',
      `COMP_WORDS=(${[binName, ...words].map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length}`,
      `COMP_LINE='${line}'; COMP_POINT=${line.length}`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's own parameter expansion
      '"$fn" && printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n');
    const run = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: binEnv({ PATH: `${bin}:${process.env.PATH}` }) });
    if (run.status !== 0) throw new Error(`bash completion of ${line} failed (exit ${run.status}): ${run.stderr}`);
    return run.stdout.split('\n').filter(Boolean).map((w) => w.trim());
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

/**
 * Registers the checks every Airy CLI must pass: `--help` and `--version` exit 0 (after a subcommand too), `help
 * COMMAND`, an unknown flag or a mistyped command exits 2 with a single line (naming the nearest command), and
 * `completion bash` is a script bash sources and completes the commands with.
 */
export function cliConventionTests(packageDir: string, commands: { typo: string; meant: string }): void {
  const pkg = packageJson(packageDir);
  const [binName] = Object.keys(pkg.bin);

  test(`${binName} ${commands.meant} --version prints the program's version too`, () => {
    const run = runBin(packageDir, [commands.meant, '--version']);
    assert.is(run.status, 0, run.stderr);
    assert.is(run.stdout.trim(), pkg.version);
  });

  test(`${binName} help ${commands.meant} shows that command's help and exits 0`, () => {
    const run = runBin(packageDir, ['help', commands.meant]);
    assert.is(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^Usage: ${binName} ${commands.meant} `));
  });

  test(`${binName} ${commands.typo}: unknown command, did you mean ${commands.meant}? in one line, exit 2`, () => {
    const run = runBin(packageDir, [commands.typo]);
    assert.is(run.status, 2, run.stderr);
    assert.is(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`unknown command '${commands.typo}' \\(did you mean ${commands.meant}\\?\\)`));
  });

  test(`${binName} completion bash: bash sources it and completes the commands`, () => {
    if (!existsSync(BASH_COMPLETION)) throw new Error(`${BASH_COMPLETION} is missing: bash tools/setup.sh installs bash-completion`);
    const offered = bashCompletes(packageDir, [commands.meant.slice(0, 2)]);
    assert.ok(offered.includes(commands.meant), `offered: ${offered.join(' ')}`);
    assert.ok(offered.every((w) => w.startsWith(commands.meant.slice(0, 2))), `offered: ${offered.join(' ')}`);
    for (const shell of ['zsh', 'fish']) {
      const run = runBin(packageDir, ['completion', shell]);
      assert.is(run.status, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`${binName} complete --`));
    }
  });

  test(`${binName} --help prints usage and exits 0`, () => {
    const run = runBin(packageDir, ['--help']);
    assert.is(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^Usage: ${binName} `));
    assert.match(run.stdout, /--version/);
  });

  test(`${binName} --version prints the package version and exits 0`, () => {
    const run = runBin(packageDir, ['--version']);
    assert.is(run.status, 0, run.stderr);
    assert.is(run.stdout.trim(), pkg.version);
  });

  test(`${binName} rejects an unknown flag with exit 2 and one line`, () => {
    const run = runBin(packageDir, ['--no-such-flag']);
    assert.is(run.status, 2);
    assert.is(run.stdout, '');
    const lines = run.stderr.trimEnd().split('\n');
    assert.is(lines.length, 1, run.stderr);
    assert.match(lines[0] ?? '', new RegExp(`^${binName}: .*--no-such-flag.*--help`));
  });
}

/**
 * {@link runBin} without blocking the event loop: for tests whose servers (s3rver, HTTP) run in the test process
 * itself, which a synchronous child would deadlock.
 */
export function runBinAsync(
  packageDir: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<BinRun> {
  const [file] = Object.values(packageJson(packageDir).bin);
  if (!file) throw new Error(`${packageDir} has no bin`);
  const child = spawn(process.execPath, [join(packageDir, file), ...args], {
    env: binEnv(options.env),
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

/** A bin left running (a tunnel, a server): its output so far, a wait for a line, and its exit code. */
export interface RunningBin {
  /** Everything it printed on stdout so far. */
  out(): string;
  /** Waits (up to 5 s) until stdout matches `pattern`. */
  until(pattern: RegExp): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  readonly closed: Promise<number | null>;
}

/** Starts the package's bin with `args`, without waiting for it to end. */
export function startBin(packageDir: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): RunningBin {
  const [file] = Object.values(packageJson(packageDir).bin);
  if (!file) throw new Error(`${packageDir} has no bin`);
  const child = spawn(process.execPath, [join(packageDir, file), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: binEnv(options.env) });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d;
  });
  child.stderr.resume();
  return {
    out: () => out,
    until: async (pattern) => {
      for (let i = 0; i < 200 && !pattern.test(out); i++) await new Promise((r) => setTimeout(r, 25));
    },
    kill: (signal) => child.kill(signal),
    closed: new Promise((resolve) => child.on('close', (code) => resolve(code))),
  };
}

/** Registers one test per case: the bin exits 2 with a single stderr line matching `pattern` (no stack trace). */
export function badInputTests(packageDir: string, cases: readonly (readonly [readonly string[], RegExp])[]): void {
  for (const [args, pattern] of cases) {
    test(`bad input exits 2 with one line: ${args.join(' ')}`, () => {
      const run = runBin(packageDir, [...args]);
      assert.is(run.status, 2, run.stderr);
      assert.is(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
      assert.match(run.stderr, pattern);
      assert.not.match(run.stderr, /\n\s+at /);
    });
  }
}
