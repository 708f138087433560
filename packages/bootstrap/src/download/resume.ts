/**
 * Resuming, for the whole download and the delta alike: each keeps a part file and a state file of its own beside
 * the output (a delta that falls back removes only its own pair), a state names the very file (and plan) it is of,
 * and it counts only while its part file is still a plain file of the box's size. State is a hint, never trusted:
 * the whole file's SHA-256 checks the result.
 */
import { constants } from 'node:fs';
import { type FileHandle, lstat, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { field, stateFileProblem, writeFileAtomic } from '@airy/cli-kit';
import * as v from 'valibot';
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

/** The most entries a state's lists may hold, and the most bytes its file may: far above a real one. */
const LIST_MAX = 1_000_000;
const STATE_FILE_MAX = 32 * 2 ** 20;
const byte = field.whole(0);
const SHA256 = field.matching(/^[0-9a-f]{64}$/, 'a SHA-256 of 64 hex digits', 64);
const range = v.pipe(
  v.tuple([byte, byte], 'must be a [start, end] pair'),
  v.check(([start, end]) => start <= end, 'must start before it ends'),
);
type Entries<S> = { readonly [K in keyof Required<S>]: v.GenericSchema<unknown, S[K]> };
const IDENTITY: Entries<FileIdentity> = { url: field.text(8192), size: byte, sha256: SHA256, validator: field.text(1024, 0) };

/** The whole download's state, checked: blocks and ranges of this very file, none past its end. */
const RESUME_STATE = v.pipe(
  field.object({
    ...IDENTITY,
    blockSize: field.whole(1, 2 ** 40),
    done: field.list(byte, LIST_MAX),
    partial: v.optional(field.list(range, LIST_MAX)),
  } satisfies Entries<ResumeState>),
  v.forward(
    v.check((s) => s.done.every((i) => i * s.blockSize < s.size), 'names a block past the end of the file'),
    ['done'],
  ),
  v.forward(
    v.check((s) => (s.partial ?? []).every(([, end]) => end < s.size), 'names a range past the end of the file'),
    ['partial'],
  ),
) as v.GenericSchema<unknown, ResumeState>;

const DELTA_STATE = field.object({ ...IDENTITY, plan: SHA256, done: field.list(byte, LIST_MAX) } satisfies Entries<DeltaState>) as v.GenericSchema<
  unknown,
  DeltaState
>;

/** What a state file's text holds, or what is wrong with it (`key: problem`), by its schema and bounded in size. */
type Check<S> = (text: string) => { value: S } | { problem: string };

/**
 * A whole download's state file's text, checked. Anything else than a sound state (garbage, a truncated write,
 * another shape) makes the download start over: state is a hint, never trusted.
 */
export const checkResumeState: Check<ResumeState> = (text) => stateFileProblem(text, { schema: RESUME_STATE, maxBytes: STATE_FILE_MAX });

/** A delta's state file's text, checked (see {@link checkResumeState}). */
export const checkDeltaState: Check<DeltaState> = (text) => stateFileProblem(text, { schema: DELTA_STATE, maxBytes: STATE_FILE_MAX });

const soundValue = <S>(checked: { value: S } | { problem: string }) => ('value' in checked ? checked.value : undefined);

/** A whole download's state, if the text is a sound one. */
export const parseResumeState = (text: string): ResumeState | undefined => soundValue(checkResumeState(text));

/** A delta's state, if the text is a sound one. */
export const parseDeltaState = (text: string): DeltaState | undefined => soundValue(checkDeltaState(text));

/** Whether a saved state may be resumed for this download: every field of `wanted` is the same in it. */
export function canResume<S extends { done: readonly number[] }>(saved: S | undefined, wanted: Omit<S, 'done' | 'partial'>): saved is S {
  if (saved === undefined) return false;
  return Object.entries(wanted).every(([key, value]) => (saved as Record<string, unknown>)[key] === value);
}

/**
 * The saved state to resume from, or undefined to start over: the state file checked, matching `wanted`, and its
 * part file still a plain file of `size` bytes (else the saved progress means nothing).
 */
export async function savedState<S extends { done: readonly number[] }>(
  files: PartFiles,
  check: Check<S>,
  wanted: Omit<S, 'done' | 'partial'>,
  size: number,
  onDamaged?: (problem: string) => void,
): Promise<S | undefined> {
  const text = await readFile(files.state, 'utf8').catch(() => undefined);
  const checked = text === undefined ? undefined : check(text);
  // A damaged state is said (the file and its key), then ignored: the download starts over.
  if (checked && 'problem' in checked) onDamaged?.(`${files.state}: ${checked.problem}`);
  const saved = checked && 'value' in checked ? checked.value : undefined;
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
