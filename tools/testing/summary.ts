/** Sums uvu's per-package reports (`Total:`, `Passed:`, `Skipped:`) out of an Nx run's output. */

/** The sum over all packages, and whether the run counts as green. */
export interface TestSummary {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly ok: boolean;
  readonly notes: string[];
  /** The `skip: …` lines the tests printed (each says why some tests skip). */
  readonly skipLines: string[];
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes are control characters.
const ANSI = /\u001b\[[0-9;]*m/g;

/** Reads every uvu report in `output`; `exitCode` is the Nx run's own. */
export function summarize(output: string, exitCode: number): TestSummary {
  const text = output.replace(ANSI, '');
  const pick = (label: string) => [...text.matchAll(new RegExp(`${label}:\\s+(\\d+)`, 'g'))].map((m) => Number(m[1]));
  const totals = pick('Total');
  const passes = pick('Passed');
  const skips = pick('Skipped');
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const notes: string[] = [];

  let failed = sum(totals) - sum(passes);
  if (exitCode !== 0 && failed === 0) {
    // A package whose tests crashed before uvu could report still fails the run.
    failed = 1;
    notes.push('the test run failed without a uvu report (a test file crashed on load?): see the output above');
  }
  const passed = sum(passes);
  if (passed + failed === 0) notes.push('no test ran');
  // Nx's stream output puts the project's name before each line (`ngrok-tunnel: skip: …`).
  const skipLines = [...new Set([...text.matchAll(/^(?:[\w@/.-]+: +)?(skip: .*)$/gm)].map((m) => (m[1] ?? '').trim()))];
  return { passed, failed, skipped: sum(skips), ok: failed === 0 && passed > 0 && exitCode === 0, notes, skipLines };
}

/** One known skip: how many tests it skips, and the start of the `skip: …` line it prints. */
export interface KnownSkip {
  readonly count: number;
  readonly line: string;
}

/** Reads known-skips.txt's lines (`COUNT<TAB>start of the skip line`; # comments). */
export function parseKnownSkips(text: string): KnownSkip[] {
  return text
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => {
      const [count, line] = l.split('\t');
      if (!/^\d+$/.test(count ?? '') || !line) throw new Error(`known-skips.txt: "${l}" is not COUNT<TAB>start of a skip line`);
      return { count: Number(count), line };
    });
}

/**
 * Why a run's skips are more than CI allows, or nothing: a skip line not listed, or more skipped tests than the
 * listed lines it printed allow. Pure.
 */
export function unexpectedSkips(summary: Pick<TestSummary, 'skipped' | 'skipLines'>, known: readonly KnownSkip[]): string[] {
  const problems: string[] = [];
  let allowed = 0;
  for (const line of summary.skipLines) {
    const entry = known.find((k) => line.startsWith(k.line));
    if (entry) allowed += entry.count;
    else problems.push(`an unlisted skip: ${line}`);
  }
  if (summary.skipped > allowed) problems.push(`${summary.skipped} tests skipped, but the listed skip lines printed allow ${allowed}`);
  return problems;
}
