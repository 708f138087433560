/**
 * How many connections a download uses. It starts with a few and doubles them while the total throughput still
 * rises by a meaningful step; when a doubling gains too little, it goes back to the count before (more connections
 * cost handshakes, server requests and memory, and on a full link only add contention) and stays there. Pure: the
 * downloader feeds it samples of its progress and asks for the target.
 */

/** The adaptive policy. */
export interface ParallelismPolicy {
  /** Connections to start with. @default 8 */
  readonly start: number;
  /** The most connections ever used. @default 32 */
  readonly max: number;
  /** The least relative gain that justifies a doubling. @default 0.15 */
  readonly minGain: number;
  /** How long each count runs before its throughput is judged, in ms. @default 1000 */
  readonly windowMs: number;
}

/** The defaults: start at 8, at most 32, double while throughput rises by 15% or more, judged over 1 s. */
export const DEFAULT_PARALLELISM: ParallelismPolicy = { start: 8, max: 32, minGain: 0.15, windowMs: 1000 };

/** A change of the target, with why (shown with --verbose). */
export interface ParallelismDecision {
  readonly target: number;
  readonly reason: string;
}

const MiB = 2 ** 20;
const rate = (bytesPerSecond: number) => `${(bytesPerSecond / MiB).toFixed(1)} MiB/s`;

/**
 * The controller: `target` is the number of connections to run now; `sample(now, bytes)` feeds the total bytes
 * received so far and returns a decision when the target changes. A pinned count never changes.
 */
export class ParallelismController {
  target: number;
  private settled: boolean;
  private windowStart: { time: number; bytes: number } | undefined;
  private previous: { count: number; rate: number } | undefined;

  constructor(
    private readonly policy: ParallelismPolicy = DEFAULT_PARALLELISM,
    pinned?: number,
  ) {
    this.target = pinned ?? Math.min(policy.start, policy.max);
    this.settled = pinned !== undefined || this.target >= policy.max;
  }

  /** Whether the count is final (pinned, at the cap, or no longer worth raising). */
  get isSettled(): boolean {
    return this.settled;
  }

  /** Feeds the total bytes received at `now` (ms); returns a decision when the target changes. */
  sample(now: number, bytes: number): ParallelismDecision | undefined {
    if (this.settled) return undefined;
    if (!this.windowStart) {
      this.windowStart = { time: now, bytes };
      return undefined;
    }
    const elapsed = now - this.windowStart.time;
    if (elapsed < this.policy.windowMs) return undefined;
    const current = ((bytes - this.windowStart.bytes) * 1000) / elapsed;
    this.windowStart = { time: now, bytes };
    const before = this.previous;
    if (before && current < before.rate * (1 + this.policy.minGain)) {
      // Too little gain: back to the count before, and stay.
      this.settled = true;
      const gain = before.rate > 0 ? Math.round(((current - before.rate) / before.rate) * 100) : 0;
      const from = this.target;
      this.target = before.count;
      return {
        target: this.target,
        reason: `${from} connections gave ${rate(current)}, ${gain}% over ${before.count} (${rate(before.rate)}): under ${Math.round(this.policy.minGain * 100)}%, back to ${before.count}`,
      };
    }
    this.previous = { count: this.target, rate: current };
    const next = Math.min(this.policy.max, this.target * 2);
    if (next === this.target) {
      this.settled = true;
      return { target: this.target, reason: `${this.target} connections give ${rate(current)}, the cap (${this.policy.max})` };
    }
    const reason = before
      ? `${this.target} connections gave ${rate(current)}, ${Math.round(((current - before.rate) / Math.max(1, before.rate)) * 100)}% over ${before.count}: trying ${next}`
      : `${this.target} connections give ${rate(current)}: trying ${next}`;
    this.target = next;
    return { target: next, reason };
  }
}
