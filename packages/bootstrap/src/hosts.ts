/**
 * The host name of the printed URLs, on the laptop: bootstrap offers to add the one hosts-file line that maps it to
 * the VM (with your consent, through sudo), and `destroy` takes it out again. Only a block between its own
 * markers is ever touched; every other line stays as it was.
 *
 * Why a hosts line and not a name that needs no setup (`*.localhost`): browsers resolve `*.localhost` to loopback,
 * but not every resolver does (curl before 7.78, Java, many tools), and it would only reach the forwarded ports on
 * 127.0.0.1, not the VM's own address. One line, asked for once and removed on destroy, works for every tool.
 */
import { readFile, writeFile } from 'node:fs/promises';
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

/** `text` with our block mapping `name` to `ip` (an earlier block of ours replaced). Pure; checks both values. */
export function withHostsEntry(text: string, ip: string, name: string): string {
  if (!IPV4.test(ip) || !NAME.test(name)) throw new Error(`not a hosts entry: ${ip} ${name}`);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const base = withoutHostsEntry(text);
  const sep = base === '' || base.endsWith('\n') ? '' : eol;
  return `${base}${sep}${BEGIN}${eol}${ip} ${name}${eol}${END}${eol}`;
}

/** `text` without our block; unchanged when there is none. Pure. */
export function withoutHostsEntry(text: string): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(eol);
  const start = lines.indexOf(BEGIN);
  const end = lines.indexOf(END, start);
  if (start < 0 || end < 0) return text;
  return [...lines.slice(0, start), ...lines.slice(end + 1)].join(eol);
}

/** Writes the hosts file: directly when we may, else through `sudo tee` (it asks for your password). */
async function writeHosts(file: string, text: string): Promise<void> {
  try {
    await writeFile(file, text);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EACCES' && (error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
    if (process.platform === 'win32') throw new Error('writing the hosts file needs an administrator shell');
    await $({ input: text, quiet: true })`sudo tee ${file}`;
  }
}

/**
 * Makes `name` resolve to `ip` on this machine: nothing when it already does; else asks (unless `yes`) and adds
 * our block. Declining, no terminal to ask on, or a failed write is no error: it returns the line to add by hand.
 */
export async function ensureHostsEntry(
  ip: string,
  name: string,
  options: { yes: boolean; log: (line: string) => void; file?: string },
): Promise<'present' | 'added' | 'manual'> {
  const file = options.file ?? hostsFile();
  const text = await readFile(file, 'utf8').catch(() => '');
  if (hasHostsEntry(text, ip, name)) return 'present';
  try {
    if (!options.yes) await confirm(`add "${ip} ${name}" to ${file} so the URLs below work (removed by airy-bootstrap destroy)?`);
    await writeHosts(file, withHostsEntry(text, ip, name));
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
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined || withoutHostsEntry(text) === text) return;
  try {
    await writeHosts(file, withoutHostsEntry(text));
    options.log(`hosts: the airy-core line removed from ${file}`);
  } catch (error) {
    options.log(`hosts: could not remove the airy-core lines from ${file} (${(error as Error).message.split('\n')[0]}): remove them yourself`);
  }
}
