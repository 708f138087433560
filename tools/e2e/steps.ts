/**
 * The end to ends' step runner, shared by run.ts (offline) and online.ts: each step has a name and its own log
 * (`<logs>/<name>.log`); before it starts, a progress line with the time since the run began; a failure prints the
 * step, its first line and the tail of its log, and stops the run (the steps after it are reported as not run); a
 * skipped step says why. At the end the cleanups run (last registered first, pass or fail) and a summary table
 * lists every step with its result and seconds. No VM, no command: the steps bring their own work.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One step: a name, and the work, which gets its log's path. `skip`, when set, is why it does not run. */
export interface Step {
  readonly name: string;
  readonly run: (log: string) => Promise<unknown>;
  readonly skip?: string | undefined;
}

export type StepResult = 'passed' | 'failed' | 'skipped' | 'not run';

/** What became of one step. */
export interface StepRecord {
  readonly name: string;
  readonly result: StepResult;
  /** The step's own time; absent for a step that did not run. */
  readonly seconds?: number;
  /** Why it was skipped, or its error's first line. */
  readonly detail?: string;
}

export interface RunnerOptions {
  /** The prefix of every line (`e2e`, `e2e online`). */
  readonly label: string;
  /** The folder of the steps' logs. */
  readonly logs: string;
  /** Where progress and the summary go (stderr by default). */
  readonly write?: (text: string) => void;
  /** The clock, in milliseconds. */
  readonly now?: () => number;
  /** Lines of a failed step's log shown. */
  readonly tailLines?: number;
}

/** A step's name as a file name. */
export const logName = (name: string) => `${name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '')}.log`;

/** Seconds as the progress line says them: `42 s`, `3 min 5 s`. */
export function elapsed(seconds: number): string {
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** The summary table (markdown) of the records, the wall time and the figures steps noted. */
export function summaryTable(records: readonly StepRecord[], wallSeconds: number, figures: readonly string[] = []): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const rows = records.map((r) => {
    const result = r.detail ? `${r.result}: ${r.detail}` : r.result;
    return `| ${cell(r.name)} | ${cell(result)} |${r.seconds === undefined ? '' : ` ${r.seconds.toFixed(1)}`} |`;
  });
  const ok = records.every((r) => r.result !== 'failed' && r.result !== 'not run');
  const count = (result: StepResult) => records.filter((r) => r.result === result).length;
  const total = `| total (wall) | ${ok ? 'passed' : 'failed'}: ${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped, ${count('not run')} not run | ${wallSeconds.toFixed(1)} |`;
  return ['| step | result | seconds |', '|---|---|---|', ...rows, total, ...figures].join('\n');
}

export class StepRunner {
  readonly records: StepRecord[] = [];
  readonly figures: string[] = [];
  private readonly cleanups: { name: string; work: () => Promise<unknown> }[] = [];
  private readonly write: (text: string) => void;
  private readonly now: () => number;
  private readonly startedAt: number;
  private stopped = false;

  constructor(private readonly options: RunnerOptions) {
    this.write = options.write ?? ((text) => process.stderr.write(text));
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
  }

  /** True once a step or a cleanup failed. */
  get failed(): boolean {
    return this.records.some((r) => r.result === 'failed');
  }

  /** The log of the step `name`. */
  logOf(name: string): string {
    return join(this.options.logs, logName(name));
  }

  /** Work to do when the run ends, pass or fail (last registered runs first). */
  onCleanup(name: string, work: () => Promise<unknown>): void {
    this.cleanups.push({ name, work });
  }

  /** A line printed under the summary (a measured figure). */
  figure(line: string): void {
    this.figures.push(line);
  }

  /**
   * Runs `steps` in order, unless an earlier step failed; a failing step stops the run. Resolves to whether the run
   * has not failed, never rejects. May be called again with more steps (a later phase).
   */
  async run(steps: readonly Step[]): Promise<boolean> {
    for (const step of steps) {
      if (this.stopped) {
        this.records.push({ name: step.name, result: 'not run' });
        continue;
      }
      if (step.skip !== undefined) {
        this.write(`${this.options.label}: ${step.name}: skipped: ${step.skip}\n`);
        this.records.push({ name: step.name, result: 'skipped', detail: step.skip });
        continue;
      }
      const log = this.logOf(step.name);
      // Each run of a step starts its log afresh: a tail shown on failure is this run's.
      mkdirSync(this.options.logs, { recursive: true });
      writeFileSync(log, '');
      const started = this.now();
      this.write(`${this.options.label}: ${step.name}… (${elapsed((started - this.startedAt) / 1000)} in)\n`);
      try {
        await step.run(log);
        this.records.push({ name: step.name, result: 'passed', seconds: (this.now() - started) / 1000 });
      } catch (error) {
        const first = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
        this.records.push({ name: step.name, result: 'failed', seconds: (this.now() - started) / 1000, detail: first });
        const tail = existsSync(log) ? readFileSync(log, 'utf8').trimEnd().split('\n').slice(-(this.options.tailLines ?? 15)).join('\n') : '';
        this.write(`${this.options.label}: step "${step.name}" failed: ${first}\n${tail ? `${tail}\n` : ''}full logs: ${this.options.logs}\n`);
        this.stopped = true;
      }
    }
    return !this.failed;
  }

  /** Runs the cleanups (a failing one is reported and fails the run), prints the summary; resolves to pass or fail. */
  async finish(): Promise<boolean> {
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      try {
        await cleanup.work();
      } catch (error) {
        const first = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
        this.records.push({ name: `cleanup: ${cleanup.name}`, result: 'failed', detail: first });
        this.write(`${this.options.label}: cleanup "${cleanup.name}" failed: ${first}\n`);
      }
    }
    const ok = !this.failed && !this.records.some((r) => r.result === 'not run');
    this.write(`\n${summaryTable(this.records, (this.now() - this.startedAt) / 1000, this.figures)}\n`);
    this.write(`${this.options.label}: ${ok ? 'passed' : 'failed'} after ${elapsed((this.now() - this.startedAt) / 1000)}\n`);
    return ok;
  }
}
