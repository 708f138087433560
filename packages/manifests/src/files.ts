/** The package's disk effects: reading manifests to validate, and writing a render atomically. */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { KubeObject } from './components/common.js';
import type { PlatformOptions } from './options.js';
import { GENERATED_HEADER } from './render.js';
import type { Problem, SourceDocument } from './validate.js';

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

async function yamlFilesUnder(path: string): Promise<string[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    throw new UnreadablePathError(path, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (error as Error).message);
  }
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Every YAML document in `paths` (files, or folders searched for *.yaml and *.yml), plus YAML syntax problems. */
export async function readManifests(paths: readonly string[]): Promise<{ documents: SourceDocument[]; problems: Problem[] }> {
  const documents: SourceDocument[] = [];
  const problems: Problem[] = [];
  for (const root of paths) {
    for (const file of await yamlFilesUnder(root)) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        throw new UnreadablePathError(file, (error as Error).message);
      }
      const near = relative(process.cwd(), file);
      const shown = near && !near.startsWith('..') ? near : file;
      parseAllDocuments(text).forEach((doc, index) => {
        if (doc.errors.length > 0) {
          const e = doc.errors[0];
          problems.push({ file: shown, index, path: '$', message: `YAML: ${e?.message.split('\n')[0]?.replace(/:$/, '')}` });
          return;
        }
        const object = doc.toJS() as KubeObject | null;
        if (object === null) return; // an empty document
        documents.push({ file: shown, index, object });
      });
    }
  }
  return { documents, problems };
}

/**
 * Writes `files` into `dir`: each to a temporary name, then renamed over the old one, so a reader never sees a
 * half-written file. Files of an earlier render that are no longer produced are removed (only ones we generated).
 */
export async function writeRendered(dir: string, files: Map<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const suffix = `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const temps: string[] = [];
  try {
    for (const [name, text] of files) {
      const temp = join(dir, name + suffix);
      temps.push(temp);
      await writeFile(temp, text);
    }
    for (const name of files.keys()) await rename(join(dir, name + suffix), join(dir, name));
  } catch (error) {
    await Promise.all(temps.map((t) => rm(t, { force: true })));
    throw error;
  }
  for (const entry of await readdir(dir)) {
    if (files.has(entry) || !/\.ya?ml$/.test(entry)) continue;
    const text = await readFile(join(dir, entry), 'utf8');
    if (text.startsWith(GENERATED_HEADER)) await rm(join(dir, entry));
  }
}

/** Reads a YAML file of {@link PlatformOptions}; bad YAML or a non-mapping is bad input. */
export async function readOptionsFile(path: string): Promise<PlatformOptions> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UnreadablePathError(path, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message);
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new UnreadablePathError(path, `not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UnreadablePathError(path, 'must be a YAML mapping of platform options (profile, kafka, apps, topics, …)');
  }
  return value as PlatformOptions;
}
