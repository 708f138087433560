/**
 * The request log: one JSON line per forwarded webhook (method, path, status, latency, headers), bounded in size.
 * Signature and auth headers, and secret-looking query parameters, are redacted; bodies only when asked for.
 */
import { appendFile, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '@airy/cli-kit';

/** One forwarded request. */
export interface RequestEntry {
  readonly time: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly latencyMs: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

const SECRET_HEADER = /signature|authorization|token|cookie|secret|api-key|apikey|password/i;
const SECRET_PARAM = /token|secret|signature|key|password|sig$/i;

/** Headers with the secret ones replaced by `[redacted]`. */
export function redactHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = SECRET_HEADER.test(name) ? '[redacted]' : Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** A path with secret-looking query values (e.g. Facebook's hub.verify_token) replaced by `[redacted]`. */
export function redactPath(path: string): string {
  const q = path.indexOf('?');
  if (q < 0) return path;
  const params = new URLSearchParams(path.slice(q + 1));
  for (const name of [...params.keys()]) if (SECRET_PARAM.test(name)) params.set(name, '[redacted]');
  return `${path.slice(0, q)}?${params.toString().replaceAll('%5Bredacted%5D', '[redacted]')}`;
}

/** The log file, kept to the last `maxEntries` (it is trimmed when it reaches twice that). */
export class RequestLog {
  private lines = -1;

  constructor(
    readonly path: string,
    readonly maxEntries = 1000,
  ) {}

  /**
   * Appends one entry, trimming the file when it has grown past its bound. Records are written one after another,
   * in the order they were asked for.
   */
  record(entry: RequestEntry): Promise<void> {
    const next = this.writing.then(() => this.append(entry));
    this.writing = next.catch(() => undefined);
    return next;
  }

  private writing: Promise<void> = Promise.resolve();

  private async append(entry: RequestEntry): Promise<void> {
    if (this.lines < 0) this.lines = (await this.read()).length;
    // 0600: with --log-bodies the log holds what providers sent.
    await appendFile(this.path, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    this.lines++;
    if (this.lines >= 2 * this.maxEntries) {
      const keep = (await this.read()).slice(-this.maxEntries);
      await writeFileAtomic(this.path, keep.map((e) => `${JSON.stringify(e)}\n`).join(''), { mode: 0o600 });
      this.lines = keep.length;
    }
  }

  /** Every entry in the file, oldest first. */
  async read(): Promise<RequestEntry[]> {
    const text = await readFile(this.path, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as RequestEntry];
        } catch {
          return [];
        }
      });
  }
}

/** One entry as a line for `airy-tunnel log`. */
export function formatEntry(e: RequestEntry): string {
  return `${e.time} ${e.method.padEnd(6)} ${String(e.status).padEnd(3)} ${String(e.latencyMs).padStart(5)}ms ${e.path}`;
}
