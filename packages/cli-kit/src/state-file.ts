/**
 * The JSON state files the CLIs keep (an instance's `instance.json`, the tunnel's `state.json`, the downloader's
 * resume states): read bounded, checked with one schema library (valibot, as @airy/manifests' options), each file's
 * schema beside its type. A file that is not what it should be is refused in one line naming the file, the key and
 * how to fix it.
 */
import * as v from 'valibot';
import { AiryError } from './reasons.js';
import { printable, printableJson } from './terminal.js';

/** A state file that is there but is not one: `file: key: problem: fix`, reason STATE_FILE_DAMAGED (exit 2). */
export class StateFileError extends AiryError {
  constructor(
    readonly path: string,
    /** The key path of the bad value (`webhooks.facebook`), when the problem is one value's. */
    readonly key: string | undefined,
    readonly problem: string,
    fix: string,
  ) {
    super('STATE_FILE_DAMAGED', `${path}${key ? `: ${key}` : ''}: ${problem}: ${fix}`);
    this.name = 'StateFileError';
  }
}

/** How one kind of state file is read. */
export interface StateFileSpec<T> {
  /** The check, and the type it gives. */
  readonly schema: v.GenericSchema<unknown, T>;
  /** The most bytes such a file may hold: checked before it is parsed. */
  readonly maxBytes: number;
  /** How to recover, as the end of the error line (`remove it, or run airy-tunnel start again`). */
  readonly fix: string;
}

/** A value as an error line shows it: JSON, cut short. */
function shown(value: unknown): string {
  let text: string;
  try {
    text = printableJson(value) ?? String(value);
  } catch {
    text = printable(String(value));
  }
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** A state file's text, checked; anything else throws {@link StateFileError}. */
export function parseStateFile<T>(text: string, path: string, spec: StateFileSpec<T>): T {
  const bytes = Buffer.byteLength(text);
  if (bytes > spec.maxBytes) throw new StateFileError(path, undefined, `${bytes} bytes, more than such a file holds (${spec.maxBytes})`, spec.fix);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new StateFileError(path, undefined, 'not JSON', spec.fix);
  }
  const result = v.safeParse(spec.schema, data);
  if (result.success) return result.output;
  const issue = result.issues[0];
  // A key comes from the file: shown escaped, and cut short.
  const key = v.getDotPath(issue);
  throw new StateFileError(path, key === null ? undefined : printable(key.length > 80 ? `${key.slice(0, 77)}...` : key), issue.message, spec.fix);
}

/**
 * A state file that is only a hint (a resume state: when it is not sound, the work starts over): its value, or what
 * its check found wrong, as `key: problem`.
 */
export function stateFileProblem<T>(text: string, spec: Omit<StateFileSpec<T>, 'fix'>): { value: T } | { problem: string } {
  try {
    return { value: parseStateFile(text, '', { ...spec, fix: '' }) };
  } catch (error) {
    const e = error as StateFileError;
    return { problem: e.key ? `${e.key}: ${e.problem}` : e.problem };
  }
}

/** A valibot schema of a value of type `T`, what `field`'s checks are. */
export type Schema<T> = v.GenericSchema<unknown, T>;

/** The checks state files are made of, each bounded and with a message that says what the value must be. */
export const field = {
  /** A string of 1 to `max` characters (`min` 0 allows the empty one). */
  text(max: number, min = 1): Schema<string> {
    const message = (issue: v.BaseIssue<unknown>) => `must be a string of ${min} to ${max} characters, got ${shown(issue.input)}`;
    return v.pipe(v.string(message), v.minLength(min, message), v.maxLength(max, message));
  },
  /** A string that `pattern` matches whole; `what` names it. */
  matching(pattern: RegExp, what: string, max = 256): Schema<string> {
    const message = (issue: v.BaseIssue<unknown>) => `must be ${what}, got ${shown(issue.input)}`;
    return v.pipe(v.string(message), v.maxLength(max, message), v.regex(pattern, message));
  },
  /** A whole number from `min` to `max`. */
  whole(min: number, max: number = Number.MAX_SAFE_INTEGER): Schema<number> {
    const message = (issue: v.BaseIssue<unknown>) => `must be a whole number from ${min} to ${max}, got ${shown(issue.input)}`;
    return v.pipe(v.number(message), v.integer(message), v.minValue(min, message), v.maxValue(max, message));
  },
  /** A number above 0 and at most `max` (fractions allowed). */
  positive(max: number): Schema<number> {
    const message = (issue: v.BaseIssue<unknown>) => `must be a number above 0 and at most ${max}, got ${shown(issue.input)}`;
    return v.pipe(v.number(message), v.finite(message), v.gtValue(0, message), v.maxValue(max, message));
  },
  flag: v.boolean((issue) => `must be true or false, got ${shown(issue.input)}`) as Schema<boolean>,
  /** One of `allowed`. */
  oneOf<const T extends readonly string[]>(allowed: T): Schema<T[number]> {
    return v.picklist(allowed, (issue) => `must be one of ${allowed.join(', ')}, got ${shown(issue.input)}`);
  },
  /** A list of at most `max` items. */
  list<T>(item: Schema<T>, max: number): Schema<T[]> {
    const message = (issue: v.BaseIssue<unknown>) => `must be a list of at most ${max} items, got ${shown(issue.input)}`;
    return v.pipe(v.array(item, message), v.maxLength(max, message));
  },
  /** A mapping of at most `max` keys, each a string of at most `keyMax` characters. */
  record<T>(value: Schema<T>, max: number, keyMax = 64): Schema<Record<string, T>> {
    const message = (issue: v.BaseIssue<unknown>) => `must be a mapping of at most ${max} keys, got ${shown(issue.input)}`;
    return v.pipe(
      v.record(v.pipe(v.string(), v.maxLength(keyMax, `a key longer than ${keyMax} characters`)), value, message),
      v.check((r) => Object.keys(r).length <= max, message),
    );
  },
  /** A JSON object with these keys (others are dropped unread, so an older CLI still reads a newer file). */
  object<E extends v.ObjectEntries>(entries: E) {
    // valibot's object takes a list too: a JSON object is asked for first.
    const notObject = (issue: v.BaseIssue<unknown>) => `must be a JSON object, got ${shown(issue.input)}`;
    return v.pipe(
      v.custom<Record<string, unknown>>((x) => typeof x === 'object' && x !== null && !Array.isArray(x), notObject),
      v.object(entries, (issue) => (issue.expected === 'Object' ? notObject(issue) : 'is missing')),
    );
  },
} as const;
