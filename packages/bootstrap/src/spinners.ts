/**
 * One line per component while waiting: spinners redrawn in place on a TTY, a plain line per change otherwise. Both
 * say which component the wait is on (the first, in the probes' order, that is not ready) and for how long.
 */
import { formatDuration } from '@airy/cli-kit';
import type { ProbeState } from './readiness.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Where a wait stands, in milliseconds of one clock. */
export interface WaitClock {
  readonly now: number;
  /** When the wait began. */
  readonly started: number;
  /** When the component now waited for became the one. */
  readonly headSince: number;
  /** How long the wait may take in all. */
  readonly timeoutMs?: number;
}

/**
 * The wait in one line: `waiting for kafka (1 min 20 s; 4 min 5 s of 30 min in all)`, or `all ready after 12 min 3 s`.
 * `states` in the probes' order. Pure.
 */
export function waitingLine(states: readonly ProbeState[], clock: WaitClock): string {
  const seconds = (ms: number) => formatDuration(Math.max(0, Math.round(ms / 1000)));
  const all = seconds(clock.now - clock.started);
  const head = states.find((s) => !s.ready);
  if (!head) return `all ready after ${all}`;
  const limit = clock.timeoutMs ? ` of ${seconds(clock.timeoutMs)}` : '';
  return `waiting for ${head.name} (${seconds(clock.now - clock.headSince)}; ${all}${limit} in all)`;
}

/** A display of component states. */
export interface Spinners {
  update(state: ProbeState): void;
  stop(): void;
}

/** Options of the display; the clock and the period are for tests. */
export interface SpinnerOptions {
  /** The whole wait's limit, shown beside the elapsed time. */
  readonly timeoutMs?: number;
  readonly now?: () => number;
  /** Without a TTY, how often the waiting line is repeated while nothing changes. @default 30 s */
  readonly everyMs?: number;
}

/** Starts the display for `names` on `stream`. */
export function startSpinners(names: readonly string[], stream: NodeJS.WriteStream = process.stderr, options: SpinnerOptions = {}): Spinners {
  const now = options.now ?? Date.now;
  const started = now();
  const states = new Map<string, ProbeState>(names.map((n) => [n, { name: n, ready: false, detail: 'waiting' }]));
  let head: string | undefined = names[0];
  let headSince = started;
  const line = () => {
    const next = [...states.values()].find((s) => !s.ready)?.name;
    if (next !== head) [head, headSince] = [next, now()];
    return waitingLine([...states.values()], { now: now(), started, headSince, timeoutMs: options.timeoutMs });
  };
  if (!stream.isTTY) {
    // Plain lines: one per change, and the waiting line again while nothing changes, so a log shows the wait go on.
    const timer = setInterval(() => stream.write(`ready: ${line()}\n`), options.everyMs ?? 30_000);
    timer.unref?.();
    return {
      update(state) {
        states.set(state.name, state);
        stream.write(`ready: ${state.name} ${state.ready ? 'is ready' : `not yet (${state.detail})`}; ${line()}\n`);
      },
      stop() {
        clearInterval(timer);
      },
    };
  }
  let frame = 0;
  let drawn = 0;
  const draw = () => {
    if (drawn) stream.write(`\u001b[${drawn}A`);
    stream.write(`\u001b[2K${line()}\n`);
    for (const s of states.values()) {
      const mark = s.ready ? '✔' : FRAMES[frame % FRAMES.length];
      stream.write(`\u001b[2K${mark} ${s.name.padEnd(16)} ${s.ready ? 'ready' : s.detail}\n`);
    }
    drawn = states.size + 1;
    frame++;
  };
  draw();
  const timer = setInterval(draw, 100);
  return {
    update(state) {
      states.set(state.name, state);
    },
    stop() {
      clearInterval(timer);
      draw();
    },
  };
}
