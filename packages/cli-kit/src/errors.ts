/** The expected failures of a CLI: one line, an exit code, detail only with --verbose; and asking before acting. */
import { createInterface } from 'node:readline/promises';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import { AiryError } from './reasons.js';

/**
 * An expected failure of a CLI's own code (its checks of arguments): printed as one line (`what failed: how to fix
 * it`) with its exit code. Library code throws {@link AiryError} with a reason instead. `detail` is shown only with
 * `--verbose`.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.failed,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A usage error (exit 2) naming the option and what it accepts. */
export function usageError(message: string): CliError {
  return new CliError(message, ExitCode.usage);
}

/** Option parsers for commander: a whole number of at least 1, named in the error. */
export const positive = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw usageError(`${name} ${value}: must be a whole number of at least 1`);
  return n;
};

/** Option parsers for commander: a whole number of at least 0, named in the error. */
export const wholeNumber = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw usageError(`${name} ${value}: must be a whole number`);
  return n;
};

export const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;

/**
 * An option parser for a duration, in seconds: `90s`, `10m`, `1h`, or a bare whole number in `bareUnit` (so an
 * option that took minutes keeps meaning minutes).
 */
export const duration =
  (name: string, bareUnit: keyof typeof UNIT_SECONDS = 'm') =>
  (value: string): number => {
    const m = /^(\d+)(s|m|h)?$/.exec(value.trim());
    if (!m) throw usageError(`${name} ${value}: a duration such as 90s, 20m or 1h (a bare number is ${bareUnit === 'm' ? 'minutes' : bareUnit})`);
    return Number(m[1]) * UNIT_SECONDS[(m[2] ?? bareUnit) as keyof typeof UNIT_SECONDS];
  };

/** Seconds as people say them: `45 s`, `20 min`, `1 h 30 min`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const h = Math.floor(seconds / 3600);
  const min = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h ? `${h} h` : '', min ? `${min} min` : '', s ? `${s} s` : ''].filter(Boolean).join(' ');
}

/**
 * Runs `work`, giving the errors of other packages that `map` knows (they cannot depend on cli-kit) their reasons;
 * anything else is rethrown (and reported by `runCli` as unexpected). Each CLI passes its own map.
 */
export async function guarded<T>(work: () => Promise<T> | T, map: (error: unknown) => AiryError | CliError | undefined): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CliError || error instanceof AiryError) throw error;
    throw map(error) ?? error;
  }
}

/**
 * Asks `question` on the terminal and goes on only on "y" or "yes"; anything else stops with nothing changed
 * (DECLINED). Without a terminal it cannot ask, so it stops with ANSWER_NEEDED, which names `--yes`.
 */
export async function confirm(question: string): Promise<void> {
  if (!process.stdin.isTTY) throw new AiryError('ANSWER_NEEDED', `${question} needs an answer: pass --yes to go on without asking`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`${question} [y/N] `);
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new AiryError('DECLINED', 'stopped: nothing was changed');
}
