/** Shared by the benchmarks: timing with a median over several runs, and the side-by-side table. */
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
