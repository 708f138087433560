/**
 * Progress of long work (uploads, downloads, builds) on stderr: a bar with bytes, speed and ETA on a TTY, plain
 * periodic lines otherwise (CI logs, pipes). Part of the shared CLI conventions (`@airy/cli-kit`).
 */
import cliProgress from 'cli-progress';

/** A running progress display. */
export interface Progress {
  /** Bytes done so far. */
  update(done: number): void;
  /** Ends the display with a final line. */
  stop(message?: string): void;
}

/** Bytes in a human unit: 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** Options of a progress display. */
export interface ProgressOptions {
  readonly label: string;
  /** Bytes in all; negative when unknown (a server that sent no length): then only bytes and speed are shown. */
  readonly total: number;
  readonly stream?: NodeJS.WriteStream;
  /** Seconds between plain lines when not on a TTY. @default 5 */
  readonly interval?: number;
  /** Force the plain form (tests). */
  readonly plain?: boolean;
}

/** Starts a progress display for `total` bytes. */
export function startProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const started = Date.now();
  const rate = (done: number) => done / Math.max(0.001, (Date.now() - started) / 1000);
  const known = options.total >= 0;
  if (stream.isTTY && !options.plain && known) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${options.label} [{bar}] {percentage}% | {doneText} of {totalText} | {speed}/s | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(options.total, 0, { doneText: formatBytes(0), totalText: formatBytes(options.total), speed: formatBytes(0) });
    return {
      update(done) {
        bar.update(done, { doneText: formatBytes(done), speed: formatBytes(rate(done)) });
      },
      stop(message) {
        bar.stop();
        if (message) stream.write(`${message}\n`);
      },
    };
  }
  let last = 0;
  const line = (done: number) => {
    const speed = rate(done);
    if (!known) {
      stream.write(`${options.label}: ${formatBytes(done)} of an unknown size, ${formatBytes(speed)}/s\n`);
      return;
    }
    const pct = options.total ? Math.floor((done / options.total) * 100) : 100;
    const eta = speed > 0 ? Math.ceil((options.total - done) / speed) : 0;
    stream.write(
      `${options.label}: ${pct}% (${formatBytes(done)} of ${formatBytes(options.total)}, ${formatBytes(speed)}/s, ETA ${eta}s)\n`,
    );
  };
  return {
    update(done) {
      const now = Date.now();
      if (now - last >= (options.interval ?? 5) * 1000) {
        last = now;
        line(done);
      }
    },
    stop(message) {
      if (message) stream.write(`${message}\n`);
    },
  };
}
