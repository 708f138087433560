/** Shared by the benchmarks: timing with a median over several runs, and the side-by-side table. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** Runs `work` `runs` times (after one warm-up) and returns the median duration in milliseconds. */
export async function medianMs(runs: number, work: () => Promise<unknown> | unknown): Promise<number> {
  await work();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

/** One row: a task, our figure and the peer's (same unit), and whether lower is better. */
export interface Row {
  readonly task: string;
  readonly ours: number;
  readonly peer: number | undefined;
  readonly unit: string;
  readonly lowerIsBetter: boolean;
}

/** The machine, in one line. */
export function machine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** Prints the rows as a Markdown table under `title`, naming the peer tool. */
export function printTable(title: string, peerName: string, rows: readonly Row[]): void {
  const fmt = (n: number | undefined, unit: string) => (n === undefined ? 'n/a' : `${n.toFixed(n < 10 ? 2 : 0)} ${unit}`);
  console.log(`\n${title}\nmachine: ${machine()}\n`);
  console.log(`| task | ours | ${peerName} | ours vs peer (>1 is better) |`);
  console.log('|---|---|---|---|');
  for (const r of rows) {
    const ratio = r.peer === undefined ? 'n/a' : `${(r.lowerIsBetter ? r.peer / r.ours : r.ours / r.peer).toFixed(2)}×`;
    console.log(`| ${r.task} | ${fmt(r.ours, r.unit)} | ${fmt(r.peer, r.unit)} | ${ratio} |`);
  }
}

/** One run of a command: wall time, peak resident memory (VmHWM sampled from /proc), exit code, stderr's tail. */
export interface MeasuredRun {
  readonly ms: number;
  readonly rssMiB: number;
  readonly code: number | null;
  readonly err: string;
}

/** Runs a command and measures it (see {@link MeasuredRun}). */
export function measuredRun(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<MeasuredRun> {
  const started = performance.now();
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let peak = 0;
  let err = '';
  child.stderr.on('data', (d) => {
    err = (err + d).slice(-2000);
  });
  const timer = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (hwm) peak = Math.max(peak, Number(hwm[1]) / 1024);
    } catch {
      // the process just ended
    }
  }, 50);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ ms: performance.now() - started, rssMiB: peak, code, err });
    }),
  );
}
