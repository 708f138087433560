/** The subcommands that manage an existing instance: status, stop, destroy, upgrade, backup, restore, doctor. */
import { rm, stat } from 'node:fs/promises';
import { BOX_FACTS } from './box-facts.js';
import { chunkIndexName } from '@airy/box-catalog';
import { CliError, confirm, ExitCode } from '@airy/cli-kit';
import { $ } from 'zx';
import { gatherHost } from './host.js';
import { acquireLock } from '@airy/cli-kit';
import { cachedBox, defaultCacheDir, instanceFiles } from './paths.js';
import { removeHostsEntry } from './hosts.js';
import { defaultProvider, type HostView, preflight } from './preflight.js';
import { runProbe, waitReady } from './readiness.js';
import { backupFile, carryOverCommands } from './carry-over.js';
import { type InstanceState, instanceOptions, readInstance, requireInstance } from './instance.js';
import { currentTunnel, instanceProbes, instanceRunner, instanceUrls } from './instance-view.js';
import { up, type UpOptions } from './up.js';
import { machineState, sshStream, vagrant } from './vagrant.js';
import { chooseRelease, loadCatalog } from './source.js';
import { vagrantArchitecture } from './arch.js';
import { isNewerVersion } from '@airy/box-catalog';

/** `status`: the VM's state and each component's readiness, once. The ingress is probed the way the VM was made. */
export async function status(dir: string) {
  const state = await requireInstance(dir);
  const vm = await machineState(dir);
  const probes = instanceProbes(state.privateNetwork);
  const components = vm === 'running' ? (await waitReady(probes, instanceRunner(dir), { timeoutMs: 0, intervalMs: 0 })).states : [];
  const tunnel = await currentTunnel();
  return { dir, version: state.version, provider: state.provider, vm, components, tunnel: tunnel?.state ?? 'never started', urls: instanceUrls(tunnel) };
}

/** Runs a vagrant lifecycle command with the instance lock held. */
async function lifecycle(dir: string, args: string[], log: (l: string) => void): Promise<void> {
  await requireInstance(dir);
  const release = await acquireLock(instanceFiles(dir).lock);
  try {
    const run = await vagrant(args, dir, (l) => log(`vagrant | ${l}`));
    if (run.code !== 0) throw new CliError(`vagrant ${args[0]} failed: ${run.tail.at(-1) ?? ''}`, ExitCode.failed);
  } finally {
    await release();
  }
}

/** `stop`: halts the VM, keeping its disk. */
export const stop = (dir: string, log: (l: string) => void) => lifecycle(dir, ['halt'], log);

/**
 * `destroy`: removes the VM; with `prune`, also the box from Vagrant and the cached download (in `cacheDir`, else
 * the cache the instance was made from).
 */
export async function destroy(dir: string, cacheDir: string | undefined, prune: boolean, log: (l: string) => void): Promise<void> {
  const state = await requireInstance(dir);
  // A VM that was never created has nothing to destroy (and its provider may not even be reachable).
  if ((await machineState(dir)) !== 'not_created') await lifecycle(dir, ['destroy', '--force'], log);
  if (prune) await removeBox(state, dir, cacheDir ?? state.cacheDir ?? defaultCacheDir(), log);
  if (state.privateNetwork) await removeHostsEntry({ log });
  await rm(instanceFiles(dir).state, { force: true });
  await rm(instanceFiles(dir).kubeconfig, { force: true });
}

/** Removes one box version everywhere it takes disk: Vagrant, libvirt's pool, the download cache. */
async function removeBox(state: InstanceState, dir: string, cacheDir: string, log: (l: string) => void): Promise<void> {
  const removed = await vagrant(['box', 'remove', state.boxName, '--box-version', state.version, '--provider', state.provider, '--force'], dir);
  if (removed.code !== 0) log(`note: the box stays in Vagrant: ${removed.tail.at(-1) ?? ''}`);
  if (state.provider === 'libvirt') await removeLibvirtBaseVolumes(state.boxName, state.version, log);
  const box = cachedBox(cacheDir, state.sha256);
  // The box, its verified marker, and its chunk index (kept for a delta from it).
  await Promise.all([box, `${box}.verified`, chunkIndexName(box)].map((f) => rm(f, { force: true })));
}

/**
 * vagrant-libvirt copies a box into libvirt's storage pool as a base volume, which `vagrant box remove` leaves
 * behind: prune removes it too.
 */
async function removeLibvirtBaseVolumes(boxName: string, version: string, log: (l: string) => void): Promise<void> {
  const prefix = `${boxName.replaceAll('/', '-VAGRANTSLASH-')}_vagrant_box_image_${version}_`;
  const list = await $({ quiet: true, nothrow: true })`virsh -c qemu:///system vol-list default`;
  const names = [...list.stdout.matchAll(/^\s*(\S+)\s+\//gm)].map((m) => m[1] as string).filter((n) => n.startsWith(prefix));
  for (const name of names) {
    const out = await $({ quiet: true, nothrow: true })`virsh -c qemu:///system vol-delete --pool default ${name}`;
    if (out.exitCode !== 0) log(`note: the libvirt volume ${name} stays: ${out.stderr.trim()}`);
  }
}

/**
 * `upgrade`: the newest catalog version, if newer. The VM is recreated from the new box, made as the old one was.
 * The database is carried over where it can be (see carry-over.ts): dumped from the running old VM into the
 * instance folder, restored once the new platform is ready. Once all that worked, the old box is removed from
 * Vagrant, libvirt and the cache; until then it stays, so the old version can still be started.
 */
export async function upgrade(options: UpOptions): Promise<void> {
  const state = await requireInstance(options.dir);
  const loaded = await loadCatalog(state.catalog, { timeoutMs: options.limits?.catalogTimeoutMs });
  const architecture = vagrantArchitecture((await gatherHost(options.cacheDir)).arch) ?? 'amd64';
  const next = chooseRelease(loaded, 'latest', state.provider, architecture);
  if (!isNewerVersion(next.version.version, state.version)) {
    options.log(`already on the newest version, ${state.version}`);
    return;
  }
  const vm = await machineState(options.dir);
  const postgres = instanceProbes(state.privateNetwork).find((p) => p.name === 'postgres');
  const database = vm === 'running' && postgres ? await runProbe(postgres, instanceRunner(options.dir)) : undefined;
  const keep = database?.ready === true;
  options.log(`upgrading ${state.version} → ${next.version.version}: the VM is recreated from the new box`);
  options.log(
    keep
      ? 'the database is carried over (dumped now, restored when the new platform is ready); Kafka\'s messages are not kept'
      : `the database cannot be carried over: ${vm === 'running' ? `PostgreSQL is not ready (${database?.detail ?? 'no probe'})` : `the VM is ${vm} (start it first to keep it)`}; nothing inside the VM is kept`,
  );
  if (!options.yes) await confirm('go on?');

  const backup = backupFile(options.dir, state.version);
  if (keep) {
    const dumped = await saveDatabase(options.dir, backup);
    if (!dumped.ok) throw new CliError(`the database could not be saved, so nothing was changed: ${dumped.reason}`, ExitCode.failed);
    options.log(`saved the database to ${backup}`);
  }
  const restoreHint = `restore it with: airy-bootstrap restore --from ${backup} --dir ${options.dir}`;
  await lifecycle(options.dir, ['destroy', '--force'], options.log);
  await rm(instanceFiles(options.dir).state, { force: true });
  try {
    // The catalog read here is handed on: up reads it no second time and chooses the same release.
    await up({ ...options, ...instanceOptions(state), version: next.version.version, loaded });
  } catch (error) {
    if (keep) options.log(`the database of ${state.version} is kept in ${backup}; once the platform is ready, ${restoreHint}`);
    throw error;
  }
  if (keep) {
    if (options.waitSeconds === 0) {
      options.log(`the platform was not waited for (--wait 0), so the database was not restored; once it is ready, ${restoreHint}`);
      return;
    }
    const restored = await loadDatabase(options.dir, backup);
    if (!restored.ok)
      throw new CliError(`the new version runs, but restoring the database failed (${restored.reason}); the dump is kept: ${restoreHint}`, ExitCode.failed);
    options.log(`restored the database from ${backup}`);
  }
  await removeBox(state, options.dir, state.cacheDir ?? options.cacheDir, options.log);
  options.log(`removed the old box ${state.version}`);
}

/** `backup`: the platform's database, from the running VM, into `out` (mode 0600; whole or not at all). */
export async function backup(dir: string, out: string): Promise<void> {
  await requireRunning(dir);
  const dumped = await saveDatabase(dir, out);
  if (!dumped.ok) throw new CliError(`the database could not be saved: ${dumped.reason} (is the platform ready? see airy-bootstrap status)`, ExitCode.failed);
}

/** `restore`: a file from `backup` (or an upgrade) into the running platform's database, in one transaction. */
export async function restore(dir: string, from: string): Promise<void> {
  if (!(await stat(from).then((s) => s.isFile(), () => false))) throw new CliError(`${from}: no such backup file`, ExitCode.usage);
  await requireRunning(dir);
  const restored = await loadDatabase(dir, from);
  if (!restored.ok) throw new CliError(`restoring ${from} failed, nothing was changed: ${restored.reason}`, ExitCode.failed);
}


/** The platform's database from the VM into a file, and back: what backup, restore and upgrade run. */
const saveDatabase = (dir: string, out: string) => sshStream(dir, carryOverCommands().dump.inVm, { output: out });
const loadDatabase = (dir: string, from: string) => sshStream(dir, carryOverCommands().restore.inVm, { input: from });

async function requireRunning(dir: string): Promise<void> {
  await requireInstance(dir);
  const vm = await machineState(dir);
  if (vm !== 'running') throw new CliError(`the VM is ${vm}: start it first with airy-bootstrap start`, ExitCode.failed);
}

/** `doctor`: every preflight check and the versions of the tools and components, as a report to paste. */
export async function doctor(options: { cacheDir: string; cpus: number; memoryMiB: number; dir: string }): Promise<DoctorResult> {
  const host = await gatherHost(options.cacheDir);
  const state = await readInstance(options.dir);
  const provider = state?.provider ?? defaultProvider(host);
  const checks = preflight(host, { provider, cpus: options.cpus, memoryMiB: options.memoryMiB });
  const extra = { provider, instance: state?.version, node: process.version };
  return {
    report: doctorReport(host, checks, extra),
    data: { ok: checks.every((c) => c.ok), host, ...extra, platform: BOX_FACTS.componentVersions, checks },
  };
}

/** What `doctor` found: the report to paste into a bug, and the same as data (`doctor --json`). */
export interface DoctorResult {
  readonly report: string;
  readonly data: {
    /** Whether every check passed. */
    readonly ok: boolean;
    readonly host: HostView;
    readonly provider: string;
    readonly instance?: string;
    readonly node: string;
    readonly platform: Readonly<Record<string, string>>;
    readonly checks: ReturnType<typeof preflight>;
  };
}

/** The doctor report's text. Pure. */
export function doctorReport(host: HostView, checks: ReturnType<typeof preflight>, extra: { provider: string; instance?: string; node: string }): string {
  const lines = [
    '## airy-bootstrap doctor',
    `os: ${host.platform} ${host.arch}, ${host.cpus} CPUs, ${Math.round(host.memoryBytes / 2 ** 20)} MiB, ${Math.round(host.freeBytes / 2 ** 20)} MiB free`,
    `node: ${extra.node}`,
    `vagrant: ${host.vagrantVersion ?? 'not installed'} (plugins: ${host.vagrantPlugins.join(', ') || 'none'})`,
    `virtualbox: ${host.vboxmanageVersion ?? 'not installed'}`,
    `libvirt: ${host.virshVersion ?? 'not installed'}, kvm: ${host.kvm ? 'usable' : 'not usable'}`,
    `provider: ${extra.provider}`,
    `instance: ${extra.instance ?? 'none'}`,
    `platform: ${Object.entries(BOX_FACTS.componentVersions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '',
    ...checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}${c.ok ? '' : ` [${c.code}] ${c.fix}`}`),
  ];
  return `${lines.join('\n')}\n`;
}
