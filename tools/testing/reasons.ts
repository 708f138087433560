/**
 * The error model's checks for tests: library code throws an AiryError naming a reason and never an exit code; the
 * registry gives the exit code its CLI uses.
 */
import { AiryError, REASONS, type ReasonId } from '@airy/cli-kit';
import * as assert from 'uvu/assert';

/** The exit code the CLI gives `error`: its reason's, from the registry (undefined for anything else). */
export const exitCodeOf = (error: unknown): number | undefined =>
  error instanceof AiryError ? REASONS.find((r) => r.id === error.reason)?.exitCode : undefined;

/** What `run` threw, checked to be an AiryError of `reason` that carries no exit code; returns the registry's exit code. */
export async function expectReason(run: () => unknown, reason: ReasonId): Promise<number | undefined> {
  const error = await (async () => run())().then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof AiryError, `expected an AiryError, got ${String(error)}`);
  assert.is(error.reason, reason, error.message);
  assert.not.ok('exitCode' in error, 'a library error carries no exit code');
  return exitCodeOf(error);
}
