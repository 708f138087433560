/**
 * Keeps the tunnel up: connects through a {@link TunnelDriver}, reconnects with exponential backoff and jitter
 * when the session drops, and reports every change. Fatal failures (token, session limit) end it with their exit
 * code; a first connection that keeps failing ends it too. The driver and clock are injected, so tests drive it.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { backoffMs, type TunnelStatus } from '@airy/cli-kit';
import { classify, TunnelError } from './errors.js';

/** An open tunnel. */
export interface OpenTunnel {
  readonly url: string;
  close(): Promise<void>;
}

/** The narrow interface around the ngrok SDK (ngrok-driver.ts), and what tests replace. */
export interface TunnelDriver {
  open(options: {
    readonly token: string;
    readonly domain?: string;
    readonly region?: string;
    /** Local address the tunnel forwards to (the request-logging proxy). */
    readonly forwardTo: string;
    /** Called once if the session drops after opening. */
    readonly onDrop: (reason: string) => void;
  }): Promise<OpenTunnel>;
}

/** Time, injectable. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  random(): number;
}

/** Options of a supervisor. */
export interface SupervisorOptions {
  readonly token: string;
  readonly domain?: string;
  readonly region?: string;
  readonly forwardTo: string;
  /** Tries of the first connection before giving up. @default 5 */
  readonly initialAttempts?: number;
  /** @default 500 */
  readonly backoffBaseMs?: number;
  /** @default 60000 */
  readonly backoffCapMs?: number;
  readonly onStatus?: (status: TunnelStatus) => void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  random: Math.random,
  // An abort ends the wait early, and is no error: the loop then sees the signal and stops.
  sleep: (ms, signal) => delay(ms, undefined, { signal }).catch(() => undefined),
};

/** Runs until `signal` aborts (resolves) or a fatal failure (throws {@link TunnelError}). */
export async function supervise(driver: TunnelDriver, clock: Clock, options: SupervisorOptions, signal: AbortSignal): Promise<TunnelStatus> {
  let status: TunnelStatus = { state: 'connecting', startedAt: clock.now(), reconnects: 0 };
  const set = (change: Partial<TunnelStatus>) => {
    status = { ...status, ...change };
    options.onStatus?.(status);
  };
  set({});
  let attempt = 0;
  let everOnline = false;
  while (!signal.aborted) {
    let tunnel: OpenTunnel | undefined;
    try {
      let drop: (reason: string) => void = () => undefined;
      const dropped = new Promise<string>((resolve) => {
        drop = resolve;
      });
      tunnel = await driver.open({ token: options.token, domain: options.domain, region: options.region, forwardTo: options.forwardTo, onDrop: (r) => drop(r) });
      everOnline = true;
      attempt = 0;
      set({ state: 'online', url: tunnel.url, onlineSince: clock.now() });
      const aborted = signal.aborted
        ? Promise.resolve(undefined)
        : new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined), { once: true }));
      const reason = await Promise.race([dropped, aborted]);
      if (reason === undefined) {
        await tunnel.close().catch(() => undefined);
        break;
      }
      await tunnel.close().catch(() => undefined);
      set({ state: 'reconnecting', reconnects: status.reconnects + 1, lastError: classify(reason, options.token).message, onlineSince: undefined });
    } catch (error) {
      const failure = error instanceof TunnelError ? error : classify(error, options.token);
      set({ lastError: failure.message });
      if (!failure.transient || (!everOnline && attempt + 1 >= (options.initialAttempts ?? 5))) {
        set({ state: 'failed' });
        throw failure;
      }
      set({ state: everOnline ? 'reconnecting' : 'connecting', ...(everOnline ? { reconnects: status.reconnects + 1 } : {}) });
    }
    await clock.sleep(backoffMs(attempt++, options.backoffBaseMs ?? 500, options.backoffCapMs ?? 60_000, clock.random), signal);
  }
  set({ state: 'stopped', onlineSince: undefined });
  return status;
}
