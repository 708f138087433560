/**
 * One line per component while waiting: spinners redrawn in place on a TTY, a plain line per change otherwise.
 */
import type { ProbeState } from './readiness.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A display of component states. */
export interface Spinners {
  update(state: ProbeState): void;
  stop(): void;
}

/** Starts the display for `names` on `stream`. */
export function startSpinners(names: readonly string[], stream: NodeJS.WriteStream = process.stderr): Spinners {
  const started = Date.now();
  const states = new Map<string, ProbeState>(names.map((n) => [n, { name: n, ready: false, detail: 'waiting' }]));
  if (!stream.isTTY) {
    return {
      update(state) {
        states.set(state.name, state);
        stream.write(`ready: ${state.name} ${state.ready ? 'is ready' : `not yet (${state.detail})`} after ${Math.round((Date.now() - started) / 1000)}s\n`);
      },
      stop() {},
    };
  }
  let frame = 0;
  let drawn = 0;
  const draw = () => {
    if (drawn) stream.write(`\u001b[${drawn}A`);
    for (const s of states.values()) {
      const mark = s.ready ? '✔' : FRAMES[frame % FRAMES.length];
      stream.write(`\u001b[2K${mark} ${s.name.padEnd(16)} ${s.ready ? 'ready' : s.detail}\n`);
    }
    drawn = states.size;
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
