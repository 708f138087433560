/** A CLI's program: `--help`, `--version`, `--verbose`, one-line errors with their exit codes, and signals. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CliError } from './errors.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import { redact } from './redact.js';

/** Reads `version` from the package.json one folder above the compiled module (`lib/` → package root). */
export function packageVersion(moduleUrl: string): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', moduleUrl), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

/** What identifies a CLI. */
export interface ProgramOptions {
  /** The executable's name, e.g. `airy-manifests`. */
  readonly name: string;
  /** One sentence shown at the top of `--help`. */
  readonly description: string;
  /** The package version, see {@link packageVersion}. */
  readonly version: string;
}

/**
 * A commander program with the shared conventions: `--version`, `--verbose`, errors thrown instead of
 * printed (so {@link runCli} prints them as one line), and subcommands inheriting all of it.
 */
export function createProgram(options: ProgramOptions): Command {
  const program = new Command(options.name)
    .description(options.description)
    .version(options.version, '-V, --version', 'print the version and exit')
    .option('--verbose', 'show details of errors')
    .helpOption('-h, --help', 'show this help and exit')
    .showSuggestionAfterError(true)
    // Options of the program come before a subcommand, so a subcommand may have its own --version.
    .enablePositionalOptions();
  configure(program);
  return program;
}

/**
 * Applies the shared error handling to a (sub)command, and gives every subcommand `--verbose` too (so it may come
 * after the subcommand's name); `runCli` applies it to subcommands added later.
 */
function configure(command: Command): void {
  command.exitOverride();
  command.configureOutput({ outputError: () => undefined });
  for (const sub of command.commands) {
    if (!sub.options.some((o) => o.long === '--verbose')) sub.option('--verbose', 'show details of errors and decisions');
    configure(sub);
  }
}

/** Whether `--verbose` was given, before or after the subcommand. */
export function isVerbose(argv: readonly string[] = process.argv): boolean {
  return argv.includes('--verbose');
}

/** Commander's error codes that mean "printed help or version as asked", i.e. success. */
const INFORMATIONAL = new Set(['commander.helpDisplayed', 'commander.version']);

/**
 * Parses `argv`, runs the chosen action, and exits the process with the code of the outcome.
 * Never prints a stack trace for an expected failure; `--verbose` adds the detail.
 */
export async function runCli(program: Command, argv: readonly string[] = process.argv): Promise<never> {
  configure(program);
  process.once('SIGINT', () => {
    process.stderr.write(`\n${program.name()}: interrupted\n`);
    process.exit(ExitCode.interrupted);
  });
  process.once('SIGTERM', () => {
    process.stderr.write(`\n${program.name()}: terminated\n`);
    process.exit(ExitCode.terminated);
  });
  const verbose = isVerbose(argv);
  try {
    await program.parseAsync(argv as string[]);
    // An action reports a failure without throwing by setting process.exitCode (e.g. validation problems).
    return process.exit(typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok);
  } catch (error) {
    return process.exit(report(program.name(), error, verbose));
  }
}

/** Prints `error` as one line on stderr and returns the exit code it maps to. */
function report(name: string, error: unknown, verbose: boolean): ExitCodeValue {
  if (error instanceof CommanderError) {
    if (INFORMATIONAL.has(error.code)) return ExitCode.ok;
    // Help shown because no subcommand was given: that is a usage error.
    if (error.code === 'commander.help') return ExitCode.usage;
    const message = error.message.replace(/^error: /, '');
    process.stderr.write(redact(`${name}: ${message} (see ${name} --help)\n`));
    return ExitCode.usage;
  }
  if (error instanceof CliError) {
    process.stderr.write(redact(`${name}: ${error.message}\n`));
    if (verbose && error.detail) process.stderr.write(redact(`${error.detail}\n`));
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(redact(`${name}: unexpected error: ${firstLine(message)} (run with --verbose for details)\n`));
  if (verbose && error instanceof Error && error.stack) process.stderr.write(redact(`${error.stack}\n`));
  return ExitCode.failed;
}

/**
 * Ctrl-C and SIGTERM both call `handler` once, instead of ending the process at once: for work that must clean up
 * first (stop Packer, abort an upload) and then fail with its own error.
 */
export function onStopSignal(handler: (signal: 'SIGINT' | 'SIGTERM') => void): void {
  // Once: a second signal while the work stops (an impatient Ctrl-C, a supervisor's repeated SIGTERM) must not kill
  // the process halfway through writing its state. It is noted, and the stop goes on.
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => {
      if (stopping) {
        process.stderr.write(`${signal} again: already stopping\n`);
        return;
      }
      stopping = true;
      handler(signal);
    });
  }
}


function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
