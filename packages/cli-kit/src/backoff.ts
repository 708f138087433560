/** The retry policy every Airy CLI uses. Pure. */

/**
 * Exponential backoff with full jitter, the retry policy every Airy CLI uses: attempt 0 waits up to `base` ms,
 * each attempt doubles that, up to `cap`.
 */
export function backoffMs(attempt: number, base = 250, cap = 10_000, random: () => number = Math.random): number {
  return Math.round(random() * Math.min(cap, base * 2 ** attempt));
}
