/**
 * A CLI's program: `--help`, `help COMMAND`, `--version`, `--verbose`, `completion bash|zsh|fish`, one-line errors
 * with their exit codes (as JSON on stdout too under `--json`), a suggestion for a mistyped command, and signals.
 */
import { readFileSync } from 'node:fs';
import tab from '@bomb.sh/tab/commander';
import { Command, CommanderError } from 'commander';
import { closest, distance } from 'fastest-levenshtein';
import { CliError } from './errors.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import { AiryError, type ReasonId, reasonOf } from './reasons.js';
import { redact } from './redact.js';
import { printable, printableJson } from './terminal.js';

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
    .helpCommand('help [command]', 'show the help of a command')
    .showSuggestionAfterError(true)
    // Options of the program come before a subcommand, so a subcommand may have its own --version.
    .enablePositionalOptions();
  configure(program);
  return program;
}

/**
 * Applies the shared error handling to a (sub)command, and gives every subcommand `--verbose` and the program's
 * `--version` too (so they may come after the subcommand's name); `runCli` applies it to subcommands added later.
 */
function configure(command: Command, version = command.version()): void {
  command.exitOverride();
  command.configureOutput({ outputError: () => undefined });
  for (const sub of command.commands) {
    if (!sub.options.some((o) => o.long === '--verbose')) sub.option('--verbose', 'show details of errors and decisions');
    if (version && !sub.options.some((o) => o.long === '--version')) sub.version(version, '-V, --version', 'print the version and exit');
    configure(sub, version);
  }
}

/** The subcommands a completion script and the shell hand to the program itself. */
const COMPLETION = ['completion', 'complete'];

/**
 * `completion bash|zsh|fish|powershell` prints a script that asks the program itself (`PROGRAM complete -- WORDS`)
 * for what may come next, so the completions always match the installed version.
 */
function addCompletion(program: Command): void {
  if (program.commands.some((c) => c.name() === 'completion')) return;
  tab(program, { completionCommandName: 'completion' });
  program.commands.find((c) => c.name() === 'completion')?.description('print the shell completion script: source <(PROGRAM completion bash)'.replace('PROGRAM', program.name()));
}

/**
 * A first word that names no command, for a program whose own action takes no words: commander would call it
 * "too many arguments" (the program runs a default action) or say it in two lines. One line, with the nearest name.
 */
function unknownCommand(program: Command, argv: readonly string[]): string | undefined {
  const word = argv[2];
  if (word === undefined || word.startsWith('-') || program.registeredArguments.length > 0) return undefined;
  const names = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
  if (names.length === 0 || names.includes(word) || word === 'help') return undefined;
  const visible = program.commands.filter((c) => !COMPLETION.includes(c.name()) || c.name() === 'completion').map((c) => c.name());
  const hint = didYouMean(word, visible);
  return `unknown command '${word}'${hint ? ` (did you mean ${hint}?)` : ` (commands: ${visible.join(', ')})`}`;
}

/**
 * The candidate nearest to `word` when it is near enough to be a typo (two edits, a swap of two letters counts as
 * two, or a third of its letters for a longer word; never all of them), for "did you mean …?" in commands, config
 * keys and choices.
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const best = closest(word, [...candidates]);
  const edits = distance(word, best);
  return edits < word.length && edits <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
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
  // Configured before the completion is made, so it offers the options every subcommand gets.
  configure(program);
  addCompletion(program);
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
  const json = argv.includes('--json');
  try {
    const unknown = unknownCommand(program, argv);
    if (unknown) throw new CommanderError(ExitCode.usage, 'commander.unknownCommand', unknown);
    await program.parseAsync(argv as string[]);
    // An action reports a failure without throwing by setting process.exitCode (e.g. validation problems).
    return process.exit(typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok);
  } catch (error) {
    const failure = report(program.name(), error, verbose);
    // Under --json a failure is JSON on stdout too, so a script reading stdout never has to parse a human line.
    if (json && failure.message !== undefined) {
      const reason = failure.reason ? { reason: failure.reason } : {};
      process.stdout.write(`${printableJson({ ok: false, error: redact(failure.message), ...reason, exitCode: failure.code })}\n`);
    }
    return process.exit(failure.code);
  }
}

/** `text` line by line as it may be printed: a message may quote a catalog, a manifest or a server. */
const lines = (text: string) => text.split('\n').map(printable).join('\n');

/**
 * Prints `error` as one line on stderr; returns the exit code it maps to, the line (none for help or version) and
 * its reason. This is the one place where a reason becomes an exit code.
 */
function report(name: string, error: unknown, verbose: boolean): { code: ExitCodeValue; message?: string; reason?: ReasonId } {
  if (error instanceof CommanderError) {
    if (INFORMATIONAL.has(error.code)) return { code: ExitCode.ok };
    // `help COMMAND` asked for it (exit code 0); shown because no subcommand was given, it is a usage error.
    if (error.code === 'commander.help') return { code: error.exitCode === 0 ? ExitCode.ok : ExitCode.usage };
    // Commander's suggestion comes on a line of its own: one line, as every other error.
    const message = `${error.message.replace(/^error: /, '').replace(/\s*\(Did you mean (.+)\?\)\s*$/s, ' (did you mean $1?)')} (see ${name} --help)`;
    process.stderr.write(redact(`${name}: ${printable(message)}\n`));
    return { code: ExitCode.usage, message };
  }
  if (error instanceof AiryError) {
    // The reason id once, at the end, where a script or a search for it finds it; a message may already name it.
    const message = error.message.includes(error.reason) ? error.message : `${error.message} [${error.reason}]`;
    process.stderr.write(redact(`${name}: ${printable(message)}\n`));
    if (verbose && error.detail) process.stderr.write(redact(`${lines(error.detail)}\n`));
    return { code: reasonOf(error.reason).exitCode, message, reason: error.reason };
  }
  if (error instanceof CliError) {
    process.stderr.write(redact(`${name}: ${printable(error.message)}\n`));
    if (verbose && error.detail) process.stderr.write(redact(`${lines(error.detail)}\n`));
    return { code: error.exitCode, message: error.message };
  }
  const message = `unexpected error: ${firstLine(error instanceof Error ? error.message : String(error))} (run with --verbose for details)`;
  process.stderr.write(redact(`${name}: ${printable(message)}\n`));
  if (verbose && error instanceof Error && error.stack) process.stderr.write(redact(`${lines(error.stack)}\n`));
  return { code: ExitCode.failed, message };
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

/**
 * For a command with nothing to clean up (it reads, computes and prints, or writes whole files): from now on Ctrl-C
 * and SIGTERM end the process at once, by the signal's own default action (the shell reports 130 and 143, as the
 * exit codes say). {@link runCli}'s handlers are JavaScript, which runs only when the event loop is free, so a
 * command busy parsing or validating a large input would otherwise go on until it is done. Call it when the command
 * starts (a `preAction` hook); {@link onStopSignal} afterwards installs handlers again.
 */
export function stopAtOnce(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.removeAllListeners(signal);
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
