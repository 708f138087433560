/**
 * The default command: preflight, Vagrant, catalog, verified download, box add, Vagrantfile, `vagrant up`,
 * readiness, and where everything is. Safe to re-run: a healthy instance only prints its status and URLs.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { type Architecture, type LoadedCatalog, type Provider, vagrantArchitecture } from '@airy/box-catalog';
import { AiryError, formatBytes, formatDuration, startProgress, withoutCredentials, writeFileAtomic } from '@airy/cli-kit';
import { deltaRequest, download, localRootOf } from './download/index.js';
import type { ParallelismDecision } from './download/parallelism.js';
import { gatherHost } from './host.js';
import { type InstanceState, type MachineSpec, machineOf, readInstance } from './instance.js';
import { acquireLock } from '@airy/cli-kit';
import { cachedBox, instanceFiles } from './paths.js';
import { defaultProvider, type HostView, preflight } from './preflight.js';
import { currentTunnel, instanceProbes, instanceRunner, welcomeText } from './instance-view.js';
import { ensureHostsEntry, hasHostsEntry, hostsFile } from './hosts.js';
import { waitReady } from './readiness.js';
import { chooseRelease, loadCatalog } from './source.js';
import { asTargetMismatch, type CatalogTrust, isVerified, rememberedOf, type SignedRelease, signedRelease } from './trust.js';
import { startSpinners } from './spinners.js';
import { boxAdd, boxList, installVagrantfile, machineState, vagrant } from './vagrant.js';
import { DEFAULT_IP, HOST_NAME, renderVagrantfile, vagrantUpEnv } from './vagrantfile.js';

/** How long a slow server is waited for (curl's --speed-limit/--speed-time, and a catalog's whole read). */
export interface NetworkLimits {
  readonly lowSpeed?: { readonly bytesPerSecond: number; readonly seconds: number };
  /** Tries of each request before the download gives up. @default 6 */
  readonly attempts?: number;
  readonly catalogTimeoutMs?: number;
}

/**
 * Options of the default command (and of start/upgrade): the box to run, the VM's {@link MachineSpec} (the provider
 * is chosen from the host when not given), and how to go about it.
 */
export interface UpOptions extends Omit<MachineSpec, 'provider'> {
  readonly catalog: string;
  readonly version: string;
  readonly provider?: Provider;
  /** The catalog as already read (by upgrade), so it is read once. */
  readonly loaded?: LoadedCatalog;
  readonly dir: string;
  readonly cacheDir: string;
  /** Pins the download's connections; adaptive without it. */
  readonly connections?: number;
  /** Fetch only the chunks an older box in the cache does not have. @default true */
  readonly delta?: boolean;
  /** Each change of the download's connection count (--verbose). */
  readonly onParallelism?: (decision: ParallelismDecision) => void;
  readonly force: boolean;
  readonly yes: boolean;
  /** How long readiness is waited for; 0: not at all. */
  readonly waitSeconds: number;
  /** Limits of the network reads: see {@link NetworkLimits}. */
  readonly limits?: NetworkLimits;
  /** How the catalog is trusted (trust.ts): verified against a root, read unsigned as allowed, or refused. */
  readonly trust: CatalogTrust;
  readonly log: (line: string) => void;
  /** Installs Vagrant when it is missing (asks first); see vagrant-install.ts. */
  readonly ensureVagrant: (host: HostView) => Promise<void>;
  /** Installs the provider when preflight says it is missing but installable (asks first); the host afterwards. */
  readonly ensureProvider: (host: HostView, provider: Provider) => Promise<HostView>;
  /** Offer the hosts-file line for the host name (hosts.ts); `false` leaves the hosts file alone. @default true */
  readonly hosts?: boolean;
}

async function printWelcome(state: InstanceState, dir: string): Promise<void> {
  const hosts = await readFile(hostsFile(), 'utf8').catch(() => '');
  process.stdout.write(welcomeText(state, dir, await currentTunnel(), hasHostsEntry(hosts, DEFAULT_IP, HOST_NAME)));
}

/** Runs the default command. */
export async function up(options: UpOptions): Promise<void> {
  const files = instanceFiles(options.dir);
  await mkdir(options.dir, { recursive: true });
  const release = await acquireLock(files.lock);
  try {
    const existing = await readInstance(options.dir);
    // Each of these waits on a process or the network: they run at once, so a re-run reaches `vagrant up` quickly.
    const catalog = options.loaded ? Promise.resolve(options.loaded) : loadCatalog(options.catalog, { timeoutMs: options.limits?.catalogTimeoutMs }, options.trust);
    catalog.catch(() => undefined); // awaited below, unless the instance is already running
    const [vm, host, boxes] = await Promise.all([
      existing ? machineState(options.dir) : 'not_created',
      gatherHost(options.cacheDir),
      boxList(options.dir),
    ]);
    if (existing && vm === 'running') {
      options.log('the instance is already running; checking the platform once');
      const result = await waitReady(instanceProbes(existing.privateNetwork), instanceRunner(options.dir), { timeoutMs: 0, intervalMs: 0 });
      for (const s of result.states) options.log(`  ${s.name}: ${s.ready ? 'ready' : s.detail}`);
      await printWelcome(existing, options.dir);
      return;
    }

    const box = await fetchBox(options, { catalog, host, provider: options.provider ?? existing?.provider ?? defaultProvider(host) });
    // Listed before Vagrant was perhaps installed: then it is empty, and the box is added, as it must be.
    if (!hasBox(boxes, box.state)) await addBox(options, box);
    await installVm(options.dir, box.state);
    // Written before `vagrant up`, so that a failed up is tried again by start.
    await writeInstance(options.dir, box.state);
    await bootVm(options, box.state);
    await awaitPlatform(options, box.state);
  } finally {
    await release();
  }
}

/** A box made ready by {@link fetchBox}: the instance it makes, its verified file, and the catalog entry's architecture. */
export interface FetchedBox {
  readonly state: InstanceState;
  readonly path: string;
  readonly architecture: Architecture;
}

/**
 * Everything before Vagrant is asked to add the box: preflight (against the chosen box's size), Vagrant and the
 * provider (installed when missing, after asking), and the verified download into the cache. Changes nothing of
 * an instance, so an upgrade runs it while the old VM still stands. The caller holds the instance lock.
 */
export async function fetchBox(
  options: UpOptions,
  context: { readonly catalog: Promise<LoadedCatalog>; readonly host: HostView; readonly provider: Provider },
): Promise<FetchedBox> {
  const { host, provider } = context;
  const machine: MachineSpec = {
    provider,
    cpus: options.cpus,
    memoryMiB: options.memoryMiB,
    privateNetwork: options.privateNetwork,
    ...(options.libvirtDriver ? { libvirtDriver: options.libvirtDriver } : {}),
  };
  const architecture = vagrantArchitecture(host.arch);
  // A catalog that cannot be read (or lacks the release) must not hide what preflight finds: the host's problems
  // are checked without the box's size and reported first, with the catalog's as well.
  let loaded: LoadedCatalog | undefined;
  let chosen: ReturnType<typeof chooseRelease> | undefined;
  let signed: SignedRelease | undefined;
  let catalogError: unknown;
  try {
    loaded = await context.catalog;
    chosen = architecture ? chooseRelease(loaded, options.version, provider, architecture) : undefined;
    // A verified catalog: the box is believed only as a signed target.
    if (chosen && isVerified(loaded)) signed = signedRelease(loaded, chosen);
  } catch (error) {
    catalogError = error;
  }
  const checks = preflight(host, {
    provider,
    cpus: options.cpus,
    memoryMiB: options.memoryMiB,
    boxSize: chosen?.file.size,
    boxArchitecture: chosen?.file.architecture,
  });
  for (const c of checks) options.log(`preflight: ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}${c.fix ? ` (${c.code}: ${c.fix})` : ''}`);
  // A missing provider that can be installed is installed below, after asking, then checked again.
  const failed = checks.filter((c) => !c.ok && !c.installable);
  if (failed.length && !options.force) {
    const also = catalogError ? `; and ${catalogError instanceof Error ? catalogError.message : String(catalogError)}` : '';
    // The first failure is the reason; the line names every one.
    throw new AiryError(failed[0]?.code ?? 'PREFLIGHT_FAILED', `preflight failed: ${failed.map((c) => `${c.code}: ${c.fix}`).join('; ')} (or pass --force)${also}`);
  }
  if (catalogError) throw catalogError;
  if (!chosen || !loaded) throw new AiryError('HOST_UNSUPPORTED_ARCH', `unsupported architecture ${host.arch}`);
  await options.ensureVagrant(host);
  if (checks.some((c) => !c.ok && c.installable) && !options.force) {
    // After a Vagrant install its plugins can be listed: the host is looked at again first.
    const now = host.vagrantVersion ? host : await gatherHost(options.cacheDir);
    await options.ensureProvider(now, provider);
  }

  const { version, file } = chosen;
  const boxPath = cachedBox(options.cacheDir, file.checksum);
  let progress: ReturnType<typeof startProgress> | undefined;
  // An older box in the cache (the one being upgraded from) gives the chunks the new one shares with it; the
  // first box's index is kept beside it for the next upgrade.
  const delta = options.delta !== false ? await deltaRequest(file.chunks_url, boxPath, options.log, signed?.index) : undefined;
  if (signed) options.log(`catalog verified (TUF): box ${version.version} is a signed target (${formatBytes(signed.size)}, sha256 ${signed.sha256})`);
  const size = signed?.size ?? file.size;
  const got = await download({
    url: file.url,
    sha256: signed?.sha256 ?? file.checksum,
    out: boxPath,
    ...(size !== undefined ? { size } : {}),
    folderOption: '--cache',
    localRoot: localRootOf(loaded.url),
    ...(delta ? { delta } : {}),
    connections: options.connections,
    onParallelism: options.onParallelism,
    lowSpeed: options.limits?.lowSpeed,
    attempts: options.limits?.attempts,
    onStart: (info) => {
      progress = startProgress({ label: `download ${version.version}`, total: info.size });
      if (info.resumedBytes) options.log(`resuming: ${formatBytes(info.resumedBytes)} already here`);
    },
    onStartOver: (reason) => options.log(`${reason}: the download starts over`),
    onProgress: (done) => progress?.update(done),
  })
    .catch((error: unknown) => {
      throw asTargetMismatch(error, signed);
    })
    .finally(() => progress?.stop());
  options.log(got.cached ? `box ${version.version}: verified copy in the cache` : `box ${version.version}: downloaded and verified (${formatBytes(got.size)})`);

  const state: InstanceState = {
    // Never the catalog's user name and password: instance.json is not private, and Vagrant's metadata_url is made
    // from it. An upgrade from such a catalog takes them from AIRY_BOX_CATALOG again (source.ts).
    catalog: withoutCredentials(loaded.url),
    boxName: loaded.catalog.name,
    version: version.version,
    sha256: file.checksum,
    ...machine,
    cacheDir: options.cacheDir,
    // Remembered, so that start and upgrade trust the catalog as this run did, without the flag.
    ...rememberedOf(options.trust),
  };
  return { state, path: boxPath, architecture: file.architecture };
}

/** Whether Vagrant's box list has the instance's box. */
export function hasBox(boxes: readonly { name: string; version: string; provider: string }[], state: InstanceState): boolean {
  return boxes.some((b) => b.name === state.boxName && b.version === state.version && b.provider === state.provider);
}

/** `vagrant box add` of a fetched box, under the catalog's name and version. */
export async function addBox(options: Pick<UpOptions, 'dir' | 'log'>, box: FetchedBox): Promise<void> {
  const { state } = box;
  const added = await boxAdd(
    box.path,
    { name: state.boxName, version: state.version, provider: state.provider, architecture: box.architecture, sha256: state.sha256, catalogUrl: state.catalog },
    options.dir,
    (l) => options.log(`vagrant | ${l}`),
  );
  if (added.code !== 0) throw new AiryError('VAGRANT_BOX_ADD_FAILED', `vagrant box add failed: ${added.tail.at(-1) ?? ''}`);
}

/** The instance's Vagrantfile, put in place only once `vagrant validate` passed on it. */
export async function installVm(dir: string, state: InstanceState): Promise<void> {
  const installed = await installVagrantfile(dir, renderVagrantfile({ boxName: state.boxName, boxVersion: state.version, ...machineOf(state) }));
  if (!installed.ok) throw new AiryError('VAGRANTFILE_INVALID', `the Vagrantfile does not validate: ${installed.reason}`);
}

/** `instance.json`, written whole or not at all. */
export async function writeInstance(dir: string, state: InstanceState): Promise<void> {
  await writeFileAtomic(instanceFiles(dir).state, `${JSON.stringify(state, null, 2)}\n`);
}

/** `vagrant up` of the instance's Vagrantfile, then the hosts-file line for the private network's host name. */
export async function bootVm(options: UpOptions, state: InstanceState): Promise<void> {
  const upRun = await vagrant(['up', '--provider', state.provider], options.dir, (l) => options.log(`vagrant | ${l}`), vagrantUpEnv(state.provider));
  if (upRun.code !== 0) throw new AiryError('VAGRANT_UP_FAILED', `vagrant up failed: ${upRun.tail.filter(Boolean).at(-1) ?? ''} (see the output above)`);
  // The URLs name the VM's private address by host name; without the private network they are the forwarded ports.
  if (options.hosts !== false && state.privateNetwork) {
    await ensureHostsEntry(DEFAULT_IP, HOST_NAME, { yes: options.yes, log: options.log });
  }
}

/** Readiness, waited for as long as `--wait` says (not at all with 0), then where everything is. */
export async function awaitPlatform(options: UpOptions, state: InstanceState): Promise<void> {
  if (options.waitSeconds === 0) {
    options.log('readiness: not waited for (--wait 0); see airy-bootstrap status');
    await printWelcome(state, options.dir);
    return;
  }
  const probes = instanceProbes(state.privateNetwork);
  const spinners = startSpinners(probes.map((p) => p.name), process.stderr, { timeoutMs: options.waitSeconds * 1000 });
  const result = await waitReady(probes, instanceRunner(options.dir), {
    timeoutMs: options.waitSeconds * 1000,
    intervalMs: 5000,
    onChange: (s) => spinners.update(s),
  }).finally(() => spinners.stop());
  if (!result.ready) {
    const pending = result.states.filter((s) => !s.ready).map((s) => `${s.name} (${s.detail})`);
    throw new AiryError('PLATFORM_NOT_READY', `not ready after ${formatDuration(options.waitSeconds)}: ${pending.join(', ')}; see airy-bootstrap status`);
  }
  await printWelcome(state, options.dir);
}
