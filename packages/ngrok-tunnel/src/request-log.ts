/**
 * The request log: one JSON line per forwarded webhook (method, path, status, latency, headers), bounded in entries
 * and bytes, and trimmed without reading it whole.
 * Signature and auth headers, and secret-looking query parameters, are redacted; bodies only when asked for.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, open, readFile, rename, rm } from 'node:fs/promises';
import { field, stateFileProblem } from '@airy/cli-kit';
import * as v from 'valibot';

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

/**
 * A log line's check, one entry per key of {@link RequestEntry}, bounded as the proxy writes them (a body of at most
 * 64 KiB, Node's limits on headers).
 */
const ENTRY_ENTRIES: { readonly [K in keyof Required<RequestEntry>]: v.GenericSchema<unknown, RequestEntry[K]> } = {
  time: field.text(64),
  method: field.text(32),
  path: field.text(16 * 1024),
  status: field.whole(0, 999),
  latencyMs: field.whole(0),
  headers: field.record(field.text(16 * 1024, 0), 2000, 256),
  body: v.optional(field.text(64 * 1024, 0)),
};
const ENTRY = { schema: field.object(ENTRY_ENTRIES) as v.GenericSchema<unknown, RequestEntry>, maxBytes: 2 * 2 ** 20 };

/** The log read back: its entries, and the lines that are not one (a write cut short, an edit), by line number. */
export interface LogRead {
  readonly entries: RequestEntry[];
  readonly skipped: { readonly line: number; readonly problem: string }[];
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

/** The buffer the log is read through when it is scanned or cut. */
const CHUNK = 1024 * 1024;

/** Entries the log keeps after a trim. */
export const LOG_ENTRIES = 1000;
/** Bytes the log file may hold (64 KiB bodies, escaped as JSON, make a line up to a few hundred KiB). */
export const LOG_BYTES = 32 * 2 ** 20;

/**
 * The log file, bounded by entries and bytes: once an append would take it past `maxEntries` and a quarter, or past
 * `maxBytes`, it is first cut to its newest `maxEntries` within three quarters of `maxBytes`. The cut streams the
 * kept tail into a new file renamed over the old one, so memory holds line lengths, never the log.
 */
export class RequestLog {
  /** The byte length of each line in the file, oldest first (undefined until the file is first read). */
  private lengths: number[] | undefined;
  /** The file ends without a newline (a write cut short): the next entry starts on a line of its own. */
  private unterminated = false;

  constructor(
    readonly path: string,
    readonly maxEntries = LOG_ENTRIES,
    readonly maxBytes = LOG_BYTES,
  ) {}

  /**
   * Appends one entry, trimming the file first when it would pass its bound. Records are written one after another,
   * in the order they were asked for.
   */
  record(entry: RequestEntry): Promise<void> {
    const next = this.writing.then(() => this.append(entry));
    this.writing = next.catch(() => undefined);
    return next;
  }

  private writing: Promise<void> = Promise.resolve();

  private async append(entry: RequestEntry): Promise<void> {
    this.lengths ??= await this.scan();
    const lengths = this.lengths;
    const line = `${this.unterminated ? '\n' : ''}${JSON.stringify(entry)}\n`;
    const size = Buffer.byteLength(line);
    const held = lengths.reduce((a, b) => a + b, 0);
    if (lengths.length + 1 > Math.floor(this.maxEntries * 1.25) || held + size > this.maxBytes) await this.trim(lengths);
    // 0600: with --log-bodies the log holds what providers sent.
    await appendFile(this.path, line, { mode: 0o600 });
    this.unterminated = false;
    this.lengths?.push(size);
  }

  /** The byte length of each line of the file, read through one buffer. */
  private async scan(): Promise<number[]> {
    const lengths: number[] = [];
    let current = 0;
    const file = await open(this.path, 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    try {
      const buffer = Buffer.allocUnsafe(CHUNK);
      while (file) {
        const { bytesRead } = await file.read(buffer, 0, CHUNK);
        if (bytesRead === 0) break;
        const chunk = buffer.subarray(0, bytesRead);
        let from = 0;
        for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, from)) {
          lengths.push(current + nl - from + 1);
          current = 0;
          from = nl + 1;
        }
        current += chunk.length - from;
      }
    } finally {
      await file?.close();
    }
    if (current > 0) lengths.push(current);
    this.unterminated = current > 0;
    return lengths;
  }

  /** Keeps the newest lines within the trimmed bound: the tail is streamed into a new file renamed over the old. */
  private async trim(lengths: number[]): Promise<void> {
    const budget = Math.floor((this.maxBytes * 3) / 4);
    let keep = 0;
    let bytes = 0;
    while (keep < lengths.length && keep < this.maxEntries && bytes + (lengths[lengths.length - 1 - keep] as number) <= budget) {
      bytes += lengths[lengths.length - 1 - keep] as number;
      keep++;
    }
    const total = lengths.reduce((a, b) => a + b, 0);
    const temp = `${this.path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      // wx and 0600: a new private file of our own, never one (or a link) already there. One buffer carries the
      // tail across, so a cut of a large log makes no garbage to collect.
      const [from, to] = await Promise.all([open(this.path, 'r'), open(temp, 'wx', 0o600)]);
      try {
        const buffer = Buffer.allocUnsafe(CHUNK);
        for (let at = total - bytes; ; ) {
          const { bytesRead } = await from.read(buffer, 0, CHUNK, at);
          if (bytesRead === 0) break;
          await to.write(buffer, 0, bytesRead);
          at += bytesRead;
        }
      } finally {
        await Promise.all([from.close(), to.close()]);
      }
      await rename(temp, this.path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    this.lengths = lengths.slice(lengths.length - keep);
    if (keep === 0) this.unterminated = false;
  }

  /** Every entry in the file, oldest first. */
  async read(): Promise<RequestEntry[]> {
    return (await this.readChecked()).entries;
  }

  /** Every entry in the file, oldest first, each line checked by its schema; the others are skipped and named. */
  async readChecked(): Promise<LogRead> {
    const text = await readFile(this.path, 'utf8').catch(() => '');
    const entries: RequestEntry[] = [];
    const skipped: { line: number; problem: string }[] = [];
    for (const [i, line] of text.split('\n').entries()) {
      if (!line) continue;
      const checked = stateFileProblem(line, ENTRY);
      if ('value' in checked) entries.push(checked.value);
      else skipped.push({ line: i + 1, problem: checked.problem });
    }
    return { entries, skipped };
  }
}

/** One entry as a line for `airy-tunnel log`. */
export function formatEntry(e: RequestEntry): string {
  return `${e.time} ${e.method.padEnd(6)} ${String(e.status).padEnd(3)} ${String(e.latencyMs).padStart(5)}ms ${e.path}`;
}
