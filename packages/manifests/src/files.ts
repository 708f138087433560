/** The package's disk effects: reading manifests to validate, and writing a render atomically. */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { KubeObject } from './components/common.js';
import { POSTGRES } from './components/postgres.js';
import type { PlatformOptions } from './options.js';
import { GENERATED_HEADER, RENDERED_SECRETS } from './generated.js';
import type { Problem, SourceDocument } from './validate.js';
import { type BoundedDocument, parseYamlBounded, YAML_LIMITS, YamlBoundsError } from './yaml-bounds.js';

/** A path that cannot be read. The CLI reports it as bad input (exit 2). */
export class UnreadablePathError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`cannot read ${path}: ${reason}`);
    this.name = 'UnreadablePathError';
  }
}

/** A folder or file that may not be written: the message says why and what to do. */
export class UnwritablePathError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`will not write ${path}: ${reason}`);
    this.name = 'UnwritablePathError';
  }
}

/** The largest YAML file read (a platform is well under 1 MiB); larger ones are refused, not parsed. */
export const MAX_YAML_BYTES = 8 * 2 ** 20;
/** The most documents read from all files together. */
export const MAX_DOCUMENTS = YAML_LIMITS.documents;

/** A file's documents within the YAML bounds; a text past one is a single problem of the file. */
function readYaml(text: string): BoundedDocument[] {
  try {
    return parseYamlBounded(text);
  } catch (error) {
    if (!(error instanceof YamlBoundsError)) throw error;
    if (error.bound === 'documents') throw error;
    return [{ ok: false, error: error.message }];
  }
}

/**
 * Reads a plain file of at most `max` bytes. Anything else (a FIFO that would block, a device, a huge file) is
 * refused without reading it.
 */
async function readBounded(path: string | Buffer, max = MAX_YAML_BYTES, shown = String(path)): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UnreadablePathError(shown, code === 'ENOENT' ? 'no such file' : (code ?? (error as Error).message));
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new UnreadablePathError(shown, 'not a plain file');
    if (info.size > max) throw new UnreadablePathError(shown, `${info.size} bytes, more than the ${max} a manifest file may have`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * A file name's bytes as text: UTF-8 where they are, `\xNN` for each byte that is not (a name is bytes on Linux;
 * decoding it lossily would name, and open, another file). Pure.
 */
export function shownName(bytes: Buffer): string {
  const strict = new TextDecoder('utf-8', { fatal: true });
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i] as number;
    const size = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
    try {
      if (size === 0) throw new Error('continuation byte');
      out += strict.decode(bytes.subarray(i, i + size));
      i += size;
    } catch {
      out += `\\x${lead.toString(16).padStart(2, '0')}`;
      i += 1;
    }
  }
  return out;
}

/** A YAML file found under a path: its name as bytes (to open it), and as shown. */
interface FoundFile {
  readonly path: string | Buffer;
  readonly shown: string;
}

async function yamlFilesUnder(path: string): Promise<FoundFile[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    throw new UnreadablePathError(path, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (error as Error).message);
  }
  if (!info.isDirectory()) return [{ path, shown: path }];
  // Walked with names as bytes: a name that is not UTF-8 is still the file it names.
  const files: Buffer[] = [];
  const folders = [Buffer.from(path)];
  while (folders.length > 0) {
    const folder = folders.pop() as Buffer;
    for (const entry of await readdir(folder, { withFileTypes: true, encoding: 'buffer' })) {
      const full = Buffer.concat([folder, Buffer.from('/'), entry.name]);
      if (entry.isDirectory()) folders.push(full);
      else if (entry.isFile() && /\.ya?ml$/.test(entry.name.toString('latin1'))) files.push(full);
    }
  }
  // A folder with nothing to check is a mistake (a wrong path, a render that did not run), never "0 problems".
  if (files.length === 0) throw new UnreadablePathError(path, 'a folder with no *.yaml or *.yml files');
  return files.sort(Buffer.compare).map((file) => ({ path: file.toString() === shownName(file) ? file.toString() : file, shown: shownName(file) }));
}

/** Every YAML document in `paths` (files, or folders searched for *.yaml and *.yml), plus YAML syntax problems. */
export async function readManifests(paths: readonly string[]): Promise<{ documents: SourceDocument[]; problems: Problem[]; files: number }> {
  const documents: SourceDocument[] = [];
  const problems: Problem[] = [];
  let files = 0;
  for (const root of paths) {
    for (const found of await yamlFilesUnder(root)) {
      files++;
      const file = found.shown;
      const text = await readBounded(found.path, MAX_YAML_BYTES, file);
      const near = relative(process.cwd(), file);
      const shown = near && !near.startsWith('..') ? near : file;
      let all: BoundedDocument[];
      try {
        all = readYaml(text);
      } catch (error) {
        if (!(error instanceof YamlBoundsError)) throw error;
        throw new UnreadablePathError(file, `more than ${MAX_DOCUMENTS} YAML documents in all: validate fewer files at a time`);
      }
      if (documents.length + all.length > MAX_DOCUMENTS) {
        throw new UnreadablePathError(file, `more than ${MAX_DOCUMENTS} YAML documents in all: validate fewer files at a time`);
      }
      all.forEach((doc, index) => {
        // Nesting, aliases and keys are bounded (yaml-bounds.ts): a hostile document is a problem, not a hang.
        if (!doc.ok) {
          problems.push({ file: shown, index, path: '$', message: `YAML: ${doc.error}` });
          return;
        }
        const object = doc.value as KubeObject | null;
        if (object === null) return; // an empty document
        documents.push({ file: shown, index, object });
      });
    }
  }
  return { documents, problems, files };
}

/** What {@link writeRendered} may be told. */
export interface WriteOptions {
  /**
   * More files to create with mode 0600 (from the start, never chmod-ed after). A file holding a Secret always is,
   * whether named here or not.
   */
  readonly privateFiles?: readonly string[];
}

/** Whether a YAML text holds a Secret (in any of its documents). Pure. */
export function holdsSecret(text: string): boolean {
  // Unreadable YAML may hold anything: kept private.
  try {
    return readYaml(text).some((doc) => !doc.ok || (doc.value as { kind?: unknown } | null)?.kind === 'Secret');
  } catch {
    return true;
  }
}

/** Whether `dir` is a folder an earlier render wrote (its kustomization.yaml carries our header). */
async function isOurRender(dir: string): Promise<boolean> {
  return readBounded(join(dir, 'kustomization.yaml')).then((t) => t.startsWith(GENERATED_HEADER), () => false);
}

/**
 * Writes `files` into `dir`: each to a temporary name, then renamed over the old one, so a reader never sees a
 * half-written file. Files of an earlier render that are no longer produced are removed (only ones we generated).
 * Refused, before anything is written: `/`, a folder that is not empty and holds no earlier render, and a target
 * name taken by anything but a plain file (a folder, a FIFO, a symbolic link).
 */
export async function writeRendered(dir: string, files: Map<string, string>, options: WriteOptions = {}): Promise<void> {
  const target = resolve(dir);
  if (target === resolve('/')) throw new UnwritablePathError(dir, 'it is the root folder: render into a folder of its own');
  const info = await lstat(target).catch(() => undefined);
  if (info && !info.isDirectory()) throw new UnwritablePathError(dir, 'it is not a folder');
  if (info && (await readdir(target)).length > 0 && !(await isOurRender(target))) {
    throw new UnwritablePathError(dir, 'it is not empty and holds no earlier render: use a new or empty folder');
  }
  for (const name of files.keys()) {
    const existing = await lstat(join(target, name)).catch(() => undefined);
    if (existing && !existing.isFile()) throw new UnwritablePathError(join(dir, name), 'it is not a plain file: remove it first');
  }
  await mkdir(target, { recursive: true });
  const privateFiles = new Set(options.privateFiles ?? []);
  const rendered = RENDERED_SECRETS.get(files);
  const suffix = `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const temps: string[] = [];
  try {
    for (const [name, text] of files) {
      const temp = join(target, name + suffix);
      temps.push(temp);
      const known = rendered?.get(name);
      const secret = privateFiles.has(name) || (known?.text === text ? known.secret : holdsSecret(text));
      await writeFile(temp, text, { flag: 'wx', mode: secret ? 0o600 : 0o644 });
    }
    for (const name of files.keys()) await rename(join(target, name + suffix), join(target, name));
  } catch (error) {
    await Promise.all(temps.map((t) => rm(t, { force: true })));
    throw error;
  }
  // Names as bytes: one that is not UTF-8 would otherwise be read, and removed, as another file.
  for (const entry of await readdir(target, { encoding: 'buffer' })) {
    if (files.has(entry.toString()) || !/\.ya?ml$/.test(entry.toString('latin1'))) continue;
    const path = Buffer.concat([Buffer.from(`${target}/`), entry]);
    const text = await readBounded(path).catch(() => '');
    if (text.startsWith(GENERATED_HEADER)) await rm(path);
  }
}

/** The file of the postgres component (platform.ts names each file after its component), which holds the Secret. */
const POSTGRES_FILE = 'postgres.yaml';

/**
 * The database password of an earlier render in `dir`, if there is one: the rendered Secret's password key. A
 * re-render keeps it, so re-applying does not rotate it under a running PostgreSQL.
 */
export async function renderedPassword(dir: string): Promise<string | undefined> {
  if (!(await isOurRender(dir))) return undefined;
  // The file a render puts the Secret in is read first: parsing every file costs more than the rest of a render.
  const entries = await readdir(dir, { encoding: 'buffer' }).catch(() => [] as Buffer[]);
  const first = entries.filter((e) => e.toString('latin1') === POSTGRES_FILE);
  for (const entry of [...first, ...entries.filter((e) => !first.includes(e))]) {
    if (!/\.ya?ml$/.test(entry.toString('latin1'))) continue;
    const text = await readBounded(Buffer.concat([Buffer.from(`${resolve(dir)}/`), entry])).catch(() => '');
    if (!text.startsWith(GENERATED_HEADER)) continue;
    for (const doc of (() => {
      try {
        return readYaml(text);
      } catch {
        return [];
      }
    })()) {
      if (!doc.ok) continue;
      const object = doc.value as { kind?: string; stringData?: Record<string, string> } | null;
      const password = object?.kind === 'Secret' ? object.stringData?.[POSTGRES.passwordKey] : undefined;
      if (typeof password === 'string' && password.length >= 16) return password;
    }
  }
  return undefined;
}

/** Reads a YAML file of {@link PlatformOptions}; bad YAML or a non-mapping is bad input. */
export async function readOptionsFile(path: string): Promise<PlatformOptions> {
  const text = await readBounded(path, 2 ** 20);
  let docs: BoundedDocument[];
  try {
    docs = parseYamlBounded(text);
  } catch (error) {
    if (!(error instanceof YamlBoundsError)) throw error;
    throw new UnreadablePathError(path, `not valid YAML: ${error.message}`);
  }
  const bad = docs.find((d) => !d.ok);
  if (bad && !bad.ok) throw new UnreadablePathError(path, `not valid YAML: ${bad.error}`);
  if (docs.length > 1) throw new UnreadablePathError(path, 'not valid YAML: more than one document (one mapping of options)');
  const value = docs[0]?.ok ? docs[0].value : undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UnreadablePathError(path, 'must be a YAML mapping of platform options (profile, kafka, apps, topics, …)');
  }
  return value as PlatformOptions;
}
