/** Running Vagrant: its commands, box add and list, the machine's state, and ssh into the VM. Long output streams under a prefix. */
import { spawn } from 'node:child_process';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Architecture, type Provider, singleBoxCatalog } from '@airy/box-catalog';
import { lineSplitter, lineTail, withoutCredentials } from '@airy/cli-kit';
import { $ } from 'zx';
import { instanceFiles } from './paths.js';

const env = () => ({ ...process.env, VAGRANT_CHECKPOINT_DISABLE: '1' });

/**
 * Runs `vagrant ARGS` in `cwd` (with `extraEnv`); each output line goes to `onLine`. Resolves to the exit code and
 * the last lines.
 */
export async function vagrant(
  args: string[],
  cwd: string,
  onLine?: (line: string) => void,
  extraEnv: Record<string, string> = {},
): Promise<{ code: number; tail: string[]; stdout: string }> {
  const run = $({ cwd, quiet: true, nothrow: true, env: { ...env(), ...extraEnv } })`vagrant ${args}`;
  const tail = lineTail(15, onLine);
  // Vagrant writes its errors to stderr: they belong in the stream and in the tail too.
  const stderr = lineSplitter((line) => {
    if (line.trim()) tail.push(line);
  });
  run.stderr.on('data', stderr.write);
  if (onLine) for await (const line of run) tail.push(line);
  const out = await run;
  stderr.end();
  if (!onLine) tail.lines.push(...out.stdout.trim().split('\n').slice(-15));
  return { code: out.exitCode ?? 1, tail: tail.lines, stdout: out.stdout };
}

/** Boxes Vagrant has: name, provider, version. */
export async function boxList(cwd: string): Promise<{ name: string; provider: string; version: string }[]> {
  const out = await vagrant(['box', 'list', '--machine-readable'], cwd);
  const rows: { name: string; provider: string; version: string }[] = [];
  let current: Partial<{ name: string; provider: string; version: string }> = {};
  for (const line of out.stdout.split('\n')) {
    const [, , type, value] = line.split(',');
    if (type === 'box-name') current = { name: value };
    if (type === 'box-provider') current.provider = value;
    if (type === 'box-version') {
      current.version = value;
      rows.push(current as { name: string; provider: string; version: string });
    }
  }
  return rows;
}

/** Vagrant's data folder: VAGRANT_HOME, or ~/.vagrant.d. */
export function vagrantHome(): string {
  return process.env.VAGRANT_HOME ?? join(homedir(), '.vagrant.d');
}

/**
 * Adds a verified local box file under the catalog's name and version. Vagrant registers a version only from a
 * catalog, so a one-version catalog pointing at the local file is written for the add (Vagrant checks the checksum
 * once more); then the box's `metadata_url` is pointed at the real catalog (never with its user name and password:
 * the file is not private), so that `vagrant box outdated` and `vagrant box update` follow it.
 */
export async function boxAdd(
  file: string,
  box: { name: string; version: string; provider: Provider; architecture?: Architecture; sha256: string; catalogUrl?: string },
  workDir: string,
  onLine?: (line: string) => void,
): Promise<{ code: number; tail: string[] }> {
  const metadata = join(workDir, `add-${box.version}-${box.provider}.json`);
  const url = pathToFileURL(file).href;
  await writeFile(metadata, singleBoxCatalog({ ...box, architecture: box.architecture ?? 'amd64', url }));
  try {
    const added = await vagrant(['box', 'add', '--provider', box.provider, '--box-version', box.version, pathToFileURL(metadata).href], workDir, onLine);
    if (added.code === 0 && box.catalogUrl) {
      await writeFile(join(vagrantHome(), 'boxes', box.name.replaceAll('/', '-VAGRANTSLASH-'), 'metadata_url'), withoutCredentials(box.catalogUrl));
    }
    return added;
  } finally {
    await rm(metadata, { force: true });
  }
}

/** The machine's state (`running`, `poweroff`, `shutoff`, `not_created`, …) from `vagrant status`. */
export async function machineState(dir: string): Promise<string> {
  const out = await vagrant(['status', '--machine-readable'], dir);
  return /,state,([^,\n]+)/.exec(out.stdout)?.[1] ?? 'unknown';
}

/** Runs a command inside the VM over `vagrant ssh`. */
export async function sshExec(dir: string, command: string): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const out = await $({ cwd: dir, quiet: true, nothrow: true, env: env(), timeout: '60s' })`vagrant ssh -c ${command}`;
  return { ok: out.exitCode === 0, stdout: out.stdout, stderr: out.stderr };
}

/**
 * Runs a command inside the VM over `vagrant ssh`, streaming: its stdin from the file `input`, or its stdout into
 * the file `output` (mode 0600: it may hold the platform's data). The output appears whole or not at all: it is
 * written beside and renamed when the command succeeded. Resolves to success and the last line of stderr.
 */
export async function sshStream(dir: string, command: string, files: { input?: string; output?: string }): Promise<{ ok: boolean; reason: string }> {
  const partial = files.output ? `${files.output}.part` : undefined;
  if (partial) await mkdir(dirname(partial), { recursive: true });
  const input = files.input ? await open(files.input, 'r') : undefined;
  // A fresh file, 0600 from the start; a link or an old file at the path is removed, never written through.
  if (partial) await rm(partial, { force: true });
  const output = partial ? await open(partial, 'wx', 0o600) : undefined;
  let code: number | null = null;
  let stderr = '';
  try {
    const child = spawn('vagrant', ['ssh', '-c', command], { cwd: dir, env: env(), stdio: [input?.fd ?? 'ignore', output?.fd ?? 'ignore', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4096);
    });
    code = await new Promise<number | null>((resolve) => {
      child.on('error', () => resolve(null));
      child.on('close', resolve);
    });
  } finally {
    await input?.close();
    await output?.close();
  }
  if (partial && files.output) {
    if (code === 0) await rename(partial, files.output);
    else await rm(partial, { force: true });
  }
  // ssh's own goodbye is not a reason.
  const reason = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^Connection to .* closed\.$/.test(l)).at(-1);
  return code === 0 ? { ok: true, reason: '' } : { ok: false, reason: reason ?? `vagrant ssh exited ${code}` };
}

/**
 * Puts `text` in place as the Vagrantfile of `dir`, only after `vagrant validate` passed on it, so the Vagrantfile
 * in the folder is always a validated one and an unchanged one needs no second validation (a re-run stays fast).
 * A text that does not validate changes nothing; `reason` is Vagrant's last line.
 */
export async function installVagrantfile(dir: string, text: string): Promise<{ ok: true; changed: boolean } | { ok: false; reason: string }> {
  const path = instanceFiles(dir).vagrantfile;
  if ((await readFile(path, 'utf8').catch(() => undefined)) === text) return { ok: true, changed: false };
  const candidate = `${path}.new`;
  await writeFile(candidate, text);
  const valid = await vagrant(['validate'], dir, undefined, { VAGRANT_VAGRANTFILE: basename(candidate) });
  if (valid.code !== 0) {
    await rm(candidate, { force: true });
    return { ok: false, reason: valid.tail.filter(Boolean).at(-1) ?? `vagrant validate exited ${valid.code}` };
  }
  await rename(candidate, path);
  return { ok: true, changed: true };
}
