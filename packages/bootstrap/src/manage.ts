/** The subcommands that manage an existing instance: status, stop, destroy, upgrade, backup, restore, doctor. */
import { readFile, rm, stat } from 'node:fs/promises';
import { BOX_FACTS } from './box-facts.js';
import { chunkIndexName, isNewerVersion, vagrantArchitecture } from '@airy/box-catalog';
import { AiryError, confirm, writeFileAtomic } from '@airy/cli-kit';
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
import { addBox, awaitPlatform, bootVm, type FetchedBox, fetchBox, installVm, type UpOptions, writeInstance } from './up.js';
import { type UpgradeCleanup, type UpgradeFacts, type UpgradeStep, upgradeDoneNote, upgradeFailure, upgradeFailureLine, upgradePlan } from './upgrade-plan.js';
import { boxList, machineState, sshStream, vagrant } from './vagrant.js';
import { chooseRelease, loadCatalog } from './source.js';

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
    if (run.code !== 0) throw new AiryError('VAGRANT_FAILED', `vagrant ${args[0]} failed: ${run.tail.at(-1) ?? ''}`);
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
async function removeBox(state: InstanceState, dir: string, cacheDir: string, log: (l: string) => void, options: { keepFile?: boolean } = {}): Promise<void> {
  const removed = await vagrant(['box', 'remove', state.boxName, '--box-version', state.version, '--provider', state.provider, '--force'], dir);
  if (removed.code !== 0) log(`note: the box stays in Vagrant: ${removed.tail.at(-1) ?? ''}`);
  if (state.provider === 'libvirt') await removeLibvirtBaseVolumes(state.boxName, state.version, log);
  if (options.keepFile) return;
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
 * `upgrade`: the newest catalog version, if newer. The VM is recreated from the new box, made as the old one was,
 * in the order of {@link upgradePlan} (upgrade-plan.ts): the new box is downloaded, verified and added to Vagrant
 * while the old VM still stands, so a failure there changes nothing. The database is carried over where it can be
 * (see carry-over.ts): dumped from the running old VM into the instance folder just before the VM is destroyed,
 * restored once the new platform is ready. Once the new VM is up, `instance.json` names it and the old box is
 * removed from Vagrant, libvirt and the cache: nothing starts the old version after that.
 */
export async function upgrade(options: UpOptions): Promise<void> {
  const state = await requireInstance(options.dir);
  const loaded = await loadCatalog(state.catalog, { timeoutMs: options.limits?.catalogTimeoutMs }, options.trust);
  const cacheDir = state.cacheDir ?? options.cacheDir;
  const [host, boxes, vm] = await Promise.all([gatherHost(cacheDir), boxList(options.dir), machineState(options.dir)]);
  const architecture = vagrantArchitecture(host.arch) ?? 'amd64';
  const next = chooseRelease(loaded, 'latest', state.provider, architecture);
  if (!isNewerVersion(next.version.version, state.version)) {
    options.log(`already on the newest version, ${state.version}`);
    return;
  }
  const postgres = instanceProbes(state.privateNetwork).find((p) => p.name === 'postgres');
  const database = vm === 'running' && postgres ? await runProbe(postgres, instanceRunner(options.dir)) : undefined;
  const facts: UpgradeFacts = {
    from: state.version,
    to: next.version.version,
    vmExists: vm !== 'not_created',
    keepDatabase: database?.ready === true,
    boxAdded: boxes.some((b) => b.name === loaded.catalog.name && b.version === next.version.version && b.provider === state.provider),
    wait: options.waitSeconds > 0,
  };
  options.log(`upgrading ${facts.from} → ${facts.to}: the new box is fetched first, then the VM is recreated from it`);
  options.log(
    facts.keepDatabase
      ? 'the database is carried over (dumped before the old VM goes, restored when the new platform is ready); Kafka\'s messages are not kept'
      : `the database cannot be carried over: ${vm === 'running' ? `PostgreSQL is not ready (${database?.detail ?? 'no probe'})` : `the VM is ${vm} (start it first to keep it)`}; nothing inside the VM is kept`,
  );
  if (!options.yes) await confirm('go on?');

  const hints = { backup: await freshBackupFile(options.dir, facts.from), dir: options.dir };
  const earlier = backupFile(options.dir, facts.from);
  // A dump an earlier try left is the data's only copy when that try destroyed the VM: it is named, never overwritten.
  if (hints.backup !== earlier) options.log(`an earlier upgrade's dump is in ${earlier}; restore it with: airy-bootstrap restore --from ${earlier} --dir ${options.dir}`);
  // The new version made as the old one was; the catalog read here is the one it is chosen from.
  const target: UpOptions = { ...options, ...instanceOptions(state), cacheDir, version: facts.to };
  let release: (() => Promise<void>) | undefined;
  let box: FetchedBox | undefined;
  let oldVagrantfile: string | undefined;
  const run = async (step: UpgradeStep): Promise<void> => {
    switch (step) {
      case 'lock': {
        release = await acquireLock(instanceFiles(options.dir).lock);
        // What was read above was read without the lock: another run may have changed the instance since.
        const now = await readInstance(options.dir);
        if (JSON.stringify(now) !== JSON.stringify(state)) throw new Error('instance.json changed while this upgrade was getting ready (another run?): run upgrade again');
        return;
      }
      case 'download':
        box = await fetchBox(target, { catalog: Promise.resolve(loaded), host, provider: state.provider });
        return;
      case 'box-add':
        return addBox(options, need(box));
      case 'dump': {
        const dumped = await saveDatabase(options.dir, hints.backup);
        if (!dumped.ok) throw new Error(dumped.reason);
        options.log(`saved the database to ${hints.backup}`);
        return;
      }
      case 'destroy-old': {
        const destroyed = await vagrant(['destroy', '--force'], options.dir, (l) => options.log(`vagrant | ${l}`));
        if (destroyed.code !== 0) throw new Error(destroyed.tail.at(-1) ?? `vagrant destroy exited ${destroyed.code}`);
        return;
      }
      case 'vagrantfile':
        oldVagrantfile = await readFile(instanceFiles(options.dir).vagrantfile, 'utf8').catch(() => undefined);
        return installVm(options.dir, need(box).state);
      case 'up-new':
        return bootVm(target, need(box).state);
      case 'write-state':
        return writeInstance(options.dir, need(box).state);
      case 'remove-old-box':
        // The same file under a new version (a republished box) stays in the cache: the new version is it.
        await removeBox(state, options.dir, cacheDir, options.log, { keepFile: state.sha256 === need(box).state.sha256 });
        options.log(`removed the old box ${facts.from}`);
        return;
      case 'wait-ready':
        return awaitPlatform(target, need(box).state);
      case 'restore': {
        const restored = await loadDatabase(options.dir, hints.backup);
        if (!restored.ok) throw new Error(restored.reason);
        options.log(`restored the database from ${hints.backup}`);
        return;
      }
      case 'unlock':
        await release?.();
        return;
    }
  };
  const cleanup = async (step: UpgradeCleanup): Promise<void> => {
    // Each runs whatever the one before did; what fails is said, and the next still runs.
    try {
      if (step === 'destroy-new') {
        const destroyed = await vagrant(['destroy', '--force'], options.dir, (l) => options.log(`vagrant | ${l}`));
        if (destroyed.code !== 0) options.log(`note: the half-made VM of ${facts.to} could not be removed (${destroyed.tail.at(-1) ?? ''}): run vagrant destroy in ${options.dir}`);
      }
      if (step === 'old-vagrantfile' && oldVagrantfile !== undefined) await writeFileAtomic(instanceFiles(options.dir).vagrantfile, oldVagrantfile);
      if (step === 'unlock') await release?.();
    } catch (error) {
      options.log(`note: ${step} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  for (const step of upgradePlan(facts)) {
    try {
      await run(step);
    } catch (error) {
      for (const c of upgradeFailure(step).cleanup) await cleanup(c);
      const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
      // A step's own reason stays (a preflight failure is still RSRC_…); anything else is the upgrade's.
      const why = error instanceof AiryError ? error.reason : 'UPGRADE_FAILED';
      const detail = error instanceof AiryError ? error.detail : (error as Error)?.stack;
      throw new AiryError(why, upgradeFailureLine(facts, step, reason, hints), detail === undefined ? {} : { detail });
    }
  }
  const note = upgradeDoneNote(facts, hints);
  if (note) options.log(note);
}

/** The first backup file of `version` that does not exist yet: postgres-V.sql, then postgres-V-2.sql, … */
async function freshBackupFile(dir: string, version: string): Promise<string> {
  for (let n = 1; ; n++) {
    const file = backupFile(dir, n === 1 ? version : `${version}-${n}`);
    if (!(await stat(file).then(() => true, () => false))) return file;
  }
}

/** The value a step before has set; the plan's order makes it so. */
function need<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('upgrade step out of order');
  return value;
}

/** `backup`: the platform's database, from the running VM, into `out` (mode 0600; whole or not at all). */
export async function backup(dir: string, out: string): Promise<void> {
  await requireRunning(dir);
  const dumped = await saveDatabase(dir, out);
  if (!dumped.ok) throw new AiryError('BACKUP_FAILED', `the database could not be saved: ${dumped.reason} (is the platform ready? see airy-bootstrap status)`);
}

/** `restore`: a file from `backup` (or an upgrade) into the running platform's database, in one transaction. */
export async function restore(dir: string, from: string): Promise<void> {
  if (!(await stat(from).then((s) => s.isFile(), () => false))) throw new AiryError('BACKUP_NOT_FOUND', `${from}: no such backup file`);
  await requireRunning(dir);
  const restored = await loadDatabase(dir, from);
  if (!restored.ok) throw new AiryError('RESTORE_FAILED', `restoring ${from} failed, nothing was changed: ${restored.reason}`);
}


/** The platform's database from the VM into a file, and back: what backup, restore and upgrade run. */
const saveDatabase = (dir: string, out: string) => sshStream(dir, carryOverCommands().dump.inVm, { output: out });
const loadDatabase = (dir: string, from: string) => sshStream(dir, carryOverCommands().restore.inVm, { input: from });

async function requireRunning(dir: string): Promise<void> {
  await requireInstance(dir);
  const vm = await machineState(dir);
  if (vm !== 'running') throw new AiryError('VM_NOT_RUNNING', `the VM is ${vm}: start it first with airy-bootstrap start`);
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
