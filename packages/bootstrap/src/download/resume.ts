/**
 * Resuming, for the whole download and the delta alike: each keeps a part file and a state file of its own beside
 * the output (a delta that falls back removes only its own pair), a state names the very file (and plan) it is of,
 * and it counts only while its part file is still a plain file of the box's size. State is a hint, never trusted:
 * the whole file's SHA-256 checks the result.
 */
import { constants } from 'node:fs';
import { type FileHandle, lstat, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '@airy/cli-kit';
import { asDiskFull } from './request.js';

/** The part file and the state file of one kind of download. */
export interface PartFiles {
  readonly part: string;
  readonly state: string;
}

/** The whole download's pair: `OUT.part` and `OUT.download.json`. */
export const wholeFiles = (out: string): PartFiles => ({ part: `${out}.part`, state: `${out}.download.json` });

/** The delta's pair: `OUT.delta.part` and `OUT.delta.json`. */
export const deltaFiles = (out: string): PartFiles => ({ part: `${out}.delta.part`, state: `${out}.delta.json` });

/** What makes a state this very file's: every one of these must match for a resume. */
interface FileIdentity {
  readonly url: string;
  readonly size: number;
  readonly sha256: string;
  /** The server's ETag or Last-Modified: a changed file restarts the download. */
  readonly validator: string;
}

/** The whole download's state: this file, its block size, the blocks done and what was written inside the others. */
export interface ResumeState extends FileIdentity {
  readonly blockSize: number;
  readonly done: readonly number[];
  /**
   * Byte ranges (inclusive) written inside blocks not yet done, as they were flushed: a resume fetches only the
   * rest of those blocks, so a kill costs what was in flight, not every piece that was.
   */
  readonly partial?: readonly (readonly [number, number])[];
}

/** The delta's state: this file, the digest of its plan, and the fetched pieces done. */
export interface DeltaState extends FileIdentity {
  readonly plan: string;
  readonly done: readonly number[];
}

const whole = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/** The fields every state has (its file, and the indexes done), checked. */
function commonFields(text: string): Record<string, unknown> | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const s = data as Record<string, unknown>;
  const ok = typeof s.url === 'string' && whole(s.size) && typeof s.sha256 === 'string' && typeof s.validator === 'string' && Array.isArray(s.done) && s.done.every(whole);
  return ok ? s : undefined;
}

/**
 * A whole download's state file's text, if it is one: anything else (garbage, a truncated write, another shape) is
 * `undefined`, and the download starts over.
 */
export function parseResumeState(text: string): ResumeState | undefined {
  const s = commonFields(text);
  const ok =
    s !== undefined &&
    whole(s.blockSize) &&
    (s.blockSize as number) > 0 &&
    (s.partial === undefined ||
      (Array.isArray(s.partial) &&
        s.partial.every((r) => Array.isArray(r) && r.length === 2 && whole(r[0]) && whole(r[1]) && r[0] <= r[1] && r[1] < (s.size as number))));
  return ok ? (s as unknown as ResumeState) : undefined;
}

/** A delta's state file's text, if it is one (see {@link parseResumeState}). */
export function parseDeltaState(text: string): DeltaState | undefined {
  const s = commonFields(text);
  return s !== undefined && typeof s.plan === 'string' ? (s as unknown as DeltaState) : undefined;
}

/** Whether a saved state may be resumed for this download: every field of `wanted` is the same in it. */
export function canResume<S extends { done: readonly number[] }>(saved: S | undefined, wanted: Omit<S, 'done' | 'partial'>): saved is S {
  if (saved === undefined) return false;
  return Object.entries(wanted).every(([key, value]) => (saved as Record<string, unknown>)[key] === value);
}

/**
 * The saved state to resume from, or undefined to start over: the state file parsed, matching `wanted`, and its
 * part file still a plain file of `size` bytes (else the saved progress means nothing).
 */
export async function savedState<S extends { done: readonly number[] }>(
  files: PartFiles,
  parse: (text: string) => S | undefined,
  wanted: Omit<S, 'done' | 'partial'>,
  size: number,
): Promise<S | undefined> {
  const saved = await readFile(files.state, 'utf8').then(parse, () => undefined);
  if (!canResume(saved, wanted)) return undefined;
  const part = await lstat(files.part).catch(() => undefined);
  return part?.isFile() === true && part.size === size ? saved : undefined;
}

/**
 * Opens the part file: the one there when resuming, else a new one (an old one removed first). O_NOFOLLOW and
 * O_EXCL: a symbolic link put at the part's path is never written through. A full disk says how much is needed.
 */
export async function openPart(files: PartFiles, resume: boolean, size: number): Promise<FileHandle> {
  if (!resume) await rm(files.part, { force: true });
  const flags = resume ? constants.O_RDWR | constants.O_NOFOLLOW : constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  return open(files.part, flags, 0o644).catch((e) => asDiskFull(e, dirname(files.part), size));
}

/**
 * Saves of `state()` to the state file, atomically, in order: a save asked for while another waits is that one
 * (it writes the state as it is then). The promise of the last save is `saver.last()`.
 */
export function stateSaver(files: PartFiles, state: () => object): { save: () => Promise<void>; last: () => Promise<void> } {
  let saving = Promise.resolve();
  let queued = false;
  return {
    save: () => {
      if (!queued) {
        queued = true;
        saving = saving.then(() => {
          queued = false;
          return writeFileAtomic(files.state, JSON.stringify(state()));
        });
      }
      return saving;
    },
    last: () => saving,
  };
}

/** Removes a pair's part and state (the download is done, or this kind of it is given up). */
export async function clearParts(files: PartFiles): Promise<void> {
  await Promise.all([rm(files.part, { force: true }), rm(files.state, { force: true })]);
}
