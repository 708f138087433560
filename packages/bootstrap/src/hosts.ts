/**
 * The host name of the printed URLs, on the laptop: bootstrap offers to add the one hosts-file line that maps it to
 * the VM (with your consent, through sudo), and `destroy` takes it out again. Only a block between its own
 * markers, of exactly its shape, is ever touched; every other byte stays as it was (line endings too), a file that
 * cannot be read is never written, and the write is whole (a finished file renamed, or one sudo copy).
 *
 * Why a hosts line and not a name that needs no setup (`*.localhost`): browsers resolve `*.localhost` to loopback,
 * but not every resolver does (curl before 7.78, Java, many tools), and it would only reach the forwarded ports on
 * 127.0.0.1, not the VM's own address. One line, asked for once and removed on destroy, works for every tool.
 */
import { chmod, lstat, mkdtemp, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { confirm } from '@airy/cli-kit';
import { $ } from 'zx';

const BEGIN = '# >>> airy-core (airy-bootstrap): remove with airy-bootstrap destroy';
const END = '# <<< airy-core';

/** The hosts file of this OS; `AIRY_HOSTS_FILE` overrides it (tests, unusual systems). */
export function hostsFile(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (env.AIRY_HOSTS_FILE) return env.AIRY_HOSTS_FILE;
  return platform === 'win32' ? `${env.SystemRoot ?? 'C:\\Windows'}\\System32\\drivers\\etc\\hosts` : '/etc/hosts';
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;

/** Whether `text` already maps `name` to `ip` (ours or a line of your own). Pure. */
export function hasHostsEntry(text: string, ip: string, name: string): boolean {
  return text.split(/\r?\n/).some((line) => {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    return address === ip && names.includes(name);
  });
}

/** The file's line ending: CRLF when its first line ends so, else LF. Pure. */
const eolOf = (text: string) => (/^[^\n]*\r\n/.test(text) ? '\r\n' : '\n');

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Exactly our block: the begin marker, one `IP NAME` line, the end marker, each with its own line ending. */
const BLOCK = new RegExp(`(^|\\n)${escapeRegExp(BEGIN)}(\\r?\\n)([^\\r\\n]*)\\r?\\n${escapeRegExp(END)}(\\r?\\n|$)`);

/** Where our block is in `text`, if one of exactly our shape is there (its entry line a valid one). Pure. */
function findBlock(text: string): { start: number; end: number } | undefined {
  const match = BLOCK.exec(text);
  if (!match) return undefined;
  const [address, name, ...rest] = (match[3] ?? '').split(' ');
  if (!IPV4.test(address ?? '') || !NAME.test(name ?? '') || rest.length > 0) return undefined;
  const start = match.index + (match[1]?.length ?? 0);
  return { start, end: match.index + match[0].length };
}

/**
 * `text` with our block mapping `name` to `ip` (an earlier block of ours replaced), in the file's own line
 * ending; every other byte kept. Pure; checks both values.
 */
export function withHostsEntry(text: string, ip: string, name: string): string {
  if (!IPV4.test(ip) || !NAME.test(name)) throw new Error(`not a hosts entry: ${ip} ${name}`);
  const eol = eolOf(text);
  const base = withoutHostsEntry(text);
  const sep = base === '' || base.endsWith('\n') ? '' : eol;
  return `${base}${sep}${BEGIN}${eol}${ip} ${name}${eol}${END}${eol}`;
}

/**
 * `text` without our block, byte for byte otherwise; unchanged when there is none. Only a block of exactly our
 * shape is taken out: a begin marker whose end line was deleted, or a block with other lines inside, is left as
 * it is (those lines may be yours). Pure.
 */
export function withoutHostsEntry(text: string): string {
  const block = findBlock(text);
  return block ? text.slice(0, block.start) + text.slice(block.end) : text;
}

/** Whether `text` holds our marker but not a block of our shape (a user edited it). Pure. */
export function hasDamagedBlock(text: string): boolean {
  return text.includes(BEGIN) && findBlock(text) === undefined;
}

/**
 * Writes the hosts file whole: a finished file renamed over it when we may write its folder (mode kept), else one
 * `sudo cp` of a finished file (it asks for your password). Bytes are kept as read (latin1 round-trips them).
 */
async function writeHosts(file: string, text: string): Promise<void> {
  const data = Buffer.from(text, 'latin1');
  const { mode } = await stat(file);
  const temp = join(dirname(file), `.${basename(file)}.airy-${process.pid}`);
  try {
    await writeFile(temp, data, { mode: mode & 0o777, flag: 'wx' });
    await chmod(temp, mode & 0o777);
    try {
      await rename(temp, file);
    } catch (error) {
      // A bind-mounted hosts file (containers) cannot be replaced: write the finished bytes in place.
      if ((error as NodeJS.ErrnoException).code !== 'EBUSY' && (error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      await writeFile(file, data);
    }
    return;
  } catch (error) {
    await rm(temp, { force: true });
    if ((error as NodeJS.ErrnoException).code !== 'EACCES' && (error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
  }
  if (process.platform === 'win32') throw new Error('writing the hosts file needs an administrator shell');
  const dir = await mkdtemp(join(tmpdir(), 'airy-hosts-'));
  try {
    const finished = join(dir, 'hosts');
    await writeFile(finished, data, { mode: 0o644 });
    await $({ quiet: true })`sudo cp -- ${finished} ${file}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Where the hosts file links to, when it is a symbolic link (NixOS links /etc/hosts into its read-only store, from
 * configuration.nix). Such a file is never written: the rename would replace the link with a plain file.
 */
async function linkTarget(file: string): Promise<string | undefined> {
  const info = await lstat(file).catch(() => undefined);
  if (!info?.isSymbolicLink()) return undefined;
  return realpath(file).catch(() => 'a missing file');
}

/** Reads the hosts file's bytes as latin1 text (which round-trips any byte), or why it cannot. */
async function readHosts(file: string): Promise<{ text: string } | { error: string }> {
  try {
    return { text: await readFile(file, 'latin1') };
  } catch (error) {
    return { error: (error as NodeJS.ErrnoException).code ?? (error as Error).message.split('\n')[0] ?? 'unreadable' };
  }
}

/**
 * Makes `name` resolve to `ip` on this machine: nothing when it already does; else asks (unless `yes`) and adds
 * our block. A file it cannot read is never written; declining, no terminal to ask on, or a failed write is no
 * error either: it returns the line to add by hand.
 */
export async function ensureHostsEntry(
  ip: string,
  name: string,
  options: { yes: boolean; log: (line: string) => void; file?: string },
): Promise<'present' | 'added' | 'manual'> {
  const file = options.file ?? hostsFile();
  const read = await readHosts(file);
  if ('error' in read) {
    options.log(`hosts: ${file} could not be read (${read.error}), so it was not changed; add "${ip} ${name}" to it yourself`);
    return 'manual';
  }
  if (hasHostsEntry(read.text, ip, name)) return 'present';
  if (hasDamagedBlock(read.text)) {
    options.log(`hosts: ${file} holds an airy-core marker without its block (edited by hand?), so it was not changed; add "${ip} ${name}" to it yourself`);
    return 'manual';
  }
  const target = await linkTarget(file);
  if (target) {
    options.log(`hosts: ${file} is a symbolic link to ${target}, so it was not changed; add "${ip} ${name}" where it is made (NixOS: networking.hosts in configuration.nix)`);
    return 'manual';
  }
  try {
    if (!options.yes) await confirm(`add "${ip} ${name}" to ${file} so the URLs below work (removed by airy-bootstrap destroy)?`);
    await writeHosts(file, withHostsEntry(read.text, ip, name));
    options.log(`hosts: ${name} → ${ip} added to ${file}`);
    return 'added';
  } catch (error) {
    options.log(`hosts: not changed (${(error as Error).message.split('\n')[0]}); add "${ip} ${name}" to ${file} yourself`);
    return 'manual';
  }
}

/** Takes our block out of the hosts file, if it is there (destroy). Never fails the caller: says what to do instead. */
export async function removeHostsEntry(options: { log: (line: string) => void; file?: string }): Promise<void> {
  const file = options.file ?? hostsFile();
  const read = await readHosts(file);
  if ('error' in read) return;
  if (hasDamagedBlock(read.text)) {
    options.log(`hosts: ${file} holds an airy-core marker whose block was edited, so it was not changed: remove the airy-core lines yourself`);
    return;
  }
  const without = withoutHostsEntry(read.text);
  if (without === read.text) return;
  const target = await linkTarget(file);
  if (target) {
    options.log(`hosts: ${file} is a symbolic link to ${target}, so it was not changed: remove the airy-core lines where it is made`);
    return;
  }
  try {
    await writeHosts(file, without);
    options.log(`hosts: the airy-core line removed from ${file}`);
  } catch (error) {
    options.log(`hosts: could not remove the airy-core lines from ${file} (${(error as Error).message.split('\n')[0]}): remove them yourself`);
  }
}
