/** Sums uvu's per-package reports (`Total:`, `Passed:`, `Skipped:`) out of an Nx run's output. */

/** The sum over all packages, and whether the run counts as green. */
export interface TestSummary {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly ok: boolean;
  readonly notes: string[];
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
  return { passed, failed, skipped: sum(skips), ok: failed === 0 && passed > 0 && exitCode === 0, notes };
}
