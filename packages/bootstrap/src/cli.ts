#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ARCHITECTURES, type Architecture, CatalogError, isVersion, PROVIDERS, type Provider, ReleaseNotFoundError, vagrantArchitecture } from '@airy/box-catalog';
import {
  AiryError,
  createProgram,
  duration,
  ExitCode,
  formatBytes,
  guarded,
  isVerbose,
  packageVersion,
  positive,
  printable,
  printableJson,
  runCli,
  shellQuote,
  startProgress,
  usageError,
} from '@airy/cli-kit';
import { type Command, Option } from 'commander';
import { ChecksumError, deltaRequest, DiskFullError, download, DownloadError, localRootOf, OutputPathError } from './download/index.js';
import { BOX_FACTS } from './box-facts.js';
import { WAIT_DEFAULTS } from './readiness.js';
import { DEFAULT_CATALOG, defaultCacheDir, defaultInstanceDir } from './paths.js';
import { CatalogUnreachableError, chooseRelease, loadCatalog, trustFor } from './source.js';
import { DamagedInstanceError, instanceOptions, readInstance, requireInstance } from './instance.js';
import type { NetworkLimits, UpOptions } from './up.js';
import { VagrantfileValueError } from './vagrantfile.js';
import {
  ALLOW_UNSIGNED_ENV,
  asTargetMismatch,
  type CatalogTrust,
  chooseTrust,
  isVerified,
  type RememberedTrust,
  signedRelease,
  TRUSTED_ROOT_ENV,
  unsignedNotice,
} from './trust.js';
import { PUBLIC_ROOT } from './public-root.js';

// The instance commands load Vagrant and zx; `download` needs none of them, so they are
// imported when used, which keeps the downloader's memory small.
const manage = () => import('./manage.js');
const upModule = () => import('./up.js');

// Escaped: a log line may quote the catalog, Vagrant or the VM.
const log = (line: string) => process.stderr.write(`${printable(line)}\n`);

const program = createProgram({
  name: 'airy-bootstrap',
  description: 'Take a clean laptop to a running, verified Airy Core: preflight, Vagrant, the box, vagrant up, readiness.',
  version: packageVersion(import.meta.url),
});

const boxVersion = (name: string) => (value: string) => {
  if (value !== 'latest' && !isVersion(value)) throw usageError(`${name} ${value}: use latest or a version such as 1.4.0`);
  return value;
};

/**
 * `--catalog`: an https, http or file URL, or the path of a catalog file or folder that exists (made a file URL).
 * Anything else is a usage error here, before any network: it is not the network's fault.
 */
const catalogArg = (value: string) => {
  if (/^(https?|file):\/\//i.test(value)) {
    if (!URL.canParse(value)) throw usageError(`--catalog ${value}: not a valid URL`);
    return value;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw usageError(`--catalog ${value}: use an https, http or file URL`);
  if (!existsSync(value)) {
    throw usageError(`--catalog ${value}: not an https, http or file URL, and no such file or folder (e.g. --catalog file:///home/me/boxes/metadata.json)`);
  }
  return pathToFileURL(resolve(value)).href;
};

/**
 * The reasons of the typed errors that carry none of their own (box-catalog's, the downloader's); the registry
 * gives each its exit code, and runCli prints it.
 */
function toCliError(error: unknown): AiryError | undefined {
  // A sound catalog without what was asked for: the request (--box-version, --provider) is what to change.
  if (error instanceof ReleaseNotFoundError) return new AiryError('CATALOG_RELEASE_NOT_FOUND', `the box catalog ${error.message}`);
  if (error instanceof CatalogError) return new AiryError('CATALOG_MALFORMED', `the box catalog is malformed: ${error.message}`);
  if (error instanceof VagrantfileValueError) return new AiryError('VAGRANTFILE_VALUE_REFUSED', `refusing to write the Vagrantfile: ${error.message}`);
  if (error instanceof OutputPathError) return new AiryError('OUTPUT_PATH_INVALID', error.message);
  if (error instanceof DamagedInstanceError) return new AiryError('INSTANCE_DAMAGED', error.message);
  if (error instanceof CatalogUnreachableError) return new AiryError('CATALOG_UNREACHABLE', error.message);
  if (error instanceof ChecksumError) return new AiryError('BOX_CHECKSUM_MISMATCH', error.message);
  if (error instanceof DiskFullError) return new AiryError('DISK_FULL', error.message);
  if (error instanceof DownloadError) return new AiryError('DOWNLOAD_FAILED', error.message);
  return undefined;
}
const guard = <T>(work: () => Promise<T> | T) => guarded(work, toCliError);

/** The slow-server limits of the flags (see {@link networkOptions}). */
function networkLimits(flags: Record<string, unknown>): NetworkLimits {
  return {
    lowSpeed: { bytesPerSecond: flags.speedLimit as number, seconds: flags.speedTime as number },
    attempts: flags.retries as number,
    catalogTimeoutMs: (flags.catalogTimeout as number) * 1000,
  };
}

/** --speed-limit, --speed-time, --retries and --catalog-timeout, on every command that reads from the network. */
function networkOptions(command: Command): Command {
  return command
    .option('--speed-limit <bytes>', 'a connection slower than this many bytes/s for --speed-time is retried', positive('--speed-limit'), 1024)
    .option('--speed-time <seconds>', 'see --speed-limit', positive('--speed-time'), 30)
    .option('--retries <n>', 'tries of each download request before giving up', positive('--retries'), 6)
    .option('--catalog-timeout <seconds>', 'the most a catalog read may take', positive('--catalog-timeout'), 20);
}

/** --trusted-root and --allow-unsigned, on every command that reads a catalog. */
function trustOptions(command: Command): Command {
  return command
    .addOption(new Option('--trusted-root <file>', `verify the catalog (TUF) against this root.json before anything else (also ${TRUSTED_ROOT_ENV})`))
    .addOption(new Option('--allow-unsigned', `read an unsigned catalog unverified, saying so on every run; never the default (also ${ALLOW_UNSIGNED_ENV}=1)`));
}

/**
 * How the catalog is trusted (trust.ts's order: flags, environment, the instance's memory, the compiled-in public
 * root); an unsigned read prints its notice here, on every run.
 */
async function catalogTrust(flags: Record<string, unknown>, catalog: string, cacheDir: string, remembered?: RememberedTrust): Promise<CatalogTrust> {
  const trust = await guard(async () =>
    trustFor(
      chooseTrust({
        trustedRoot: flags.trustedRoot as string | undefined,
        allowUnsigned: Boolean(flags.allowUnsigned),
        env: process.env,
        ...(remembered ? { remembered } : {}),
        catalog,
        publicCatalog: DEFAULT_CATALOG,
        publicRoot: PUBLIC_ROOT,
      }),
      cacheDir,
    ),
  );
  const notice = unsignedNotice(trust, catalog);
  if (notice) log(notice);
  return trust;
}

/** With --verbose, each change of the download's connection count and why. */
function verboseParallelism(): ((d: { target: number; reason: string }) => void) | undefined {
  return isVerbose() ? (d) => log(`connections: ${d.target} (${d.reason})`) : undefined;
}

/** The catalog the default command reads: --catalog, else AIRY_BOX_CATALOG, else the public one. */
const catalogOf = (flags: Record<string, unknown>) => (flags.catalog as string | undefined) ?? process.env.AIRY_BOX_CATALOG ?? DEFAULT_CATALOG;

function upOptions(flags: Record<string, unknown>, trust: CatalogTrust): UpOptions {
  return {
    trust,
    catalog: catalogOf(flags),
    version: (flags.boxVersion as string | undefined) ?? 'latest',
    provider: flags.provider as Provider | undefined,
    dir: resolve((flags.dir as string | undefined) ?? defaultInstanceDir()),
    cacheDir: resolve((flags.cache as string | undefined) ?? defaultCacheDir()),
    cpus: flags.cpus as number,
    memoryMiB: flags.memory as number,
    connections: flags.connections as number | undefined,
    onParallelism: verboseParallelism(),
    force: Boolean(flags.force),
    yes: Boolean(flags.yes),
    libvirtDriver: flags.libvirtDriver as 'kvm' | 'qemu' | undefined,
    privateNetwork: flags.privateNetwork !== false,
    // start and upgrade have no --no-hosts: they keep what the default command did.
    hosts: flags.hosts !== false,
    waitSeconds: flags.wait as number,
    delta: flags.delta !== false,
    limits: networkLimits(flags),
    log,
    ensureVagrant: async (host) => (await import('./vagrant-install.js')).ensureVagrant(host, Boolean(flags.yes), log),
    ensureProvider: async (host, provider) =>
      (await import('./vagrant-install.js')).ensureProvider(host, {
        provider,
        yes: Boolean(flags.yes),
        log,
        cacheDir: resolve((flags.cache as string | undefined) ?? defaultCacheDir()),
      }),
  };
}

const dirOption = () => new Option('--dir <folder>', 'instance folder (default: ~/.airy/core)');
/** `--wait`, its default shown as a duration (a first boot waits longer than a later one: see WAIT_DEFAULTS). */
const waitOption = (what: string, seconds: number) =>
  new Option('--wait <time>', `${what}: 20m, 90s, 1h; a bare number is minutes (0: do not wait)`)
    .argParser(duration('--wait'))
    .default(seconds, `${seconds / 60}m`);

program
  .option('--catalog <url>', 'box catalog: https, http or file URL, or a path (default: AIRY_BOX_CATALOG, then the public catalog)', catalogArg)
  .option('--box-version <version>', 'latest, or an exact box version', boxVersion('--box-version'), 'latest')
  .addOption(new Option('--provider <provider>', 'Vagrant provider (default: virtualbox if installed, else libvirt on Linux)').choices(PROVIDERS))
  .addOption(dirOption())
  .option('--cache <folder>', 'verified box cache (default: ~/.airy/cache)')
  .option('--cpus <n>', 'CPUs of the VM', positive('--cpus'), BOX_FACTS.vm.cpus)
  .option('--memory <mib>', 'MiB of memory of the VM', positive('--memory'), BOX_FACTS.vm.memoryMiB)
  .option('--connections <n>', 'pin the number of parallel download connections (default: adaptive, 8 to 32)', positive('--connections'))
  .addOption(waitOption('how long to wait for the platform to be ready', WAIT_DEFAULTS.firstBoot))
  .addOption(new Option('--libvirt-driver <driver>', 'libvirt: kvm, or qemu without KVM').choices(['kvm', 'qemu']))
  .option('--no-private-network', 'no private network; reach the VM through forwarded ports only')
  .option('--force', 'go on even when preflight checks fail')
  .option('--yes', 'do not ask before installing Vagrant or recreating the VM')
  .option('--in-cluster-tunnel', 'also start the ngrok agent inside the cluster, with NGROK_AUTHTOKEN')
  .option('--no-hosts', 'do not offer the hosts-file line for airy.core (add it yourself)')
  .option('--no-delta', 'download the whole box, even when an older one here has most of its chunks');
networkOptions(trustOptions(program)).action(async () => {
    const { up } = await upModule();
    const flags = program.opts();
    // Checked before the long part, so a missing token fails in a second, not after the boot.
    const token = flags.inClusterTunnel ? await guard(async () => (await clusterTunnel()).tunnelToken()) : undefined;
    // A re-run trusts the catalog as the instance was made (a damaged instance.json is up's to report).
    const existing = await readInstance(resolve(flags.dir ?? defaultInstanceDir())).catch(() => undefined);
    const trust = await catalogTrust(flags, catalogOf(flags), resolve(flags.cache ?? defaultCacheDir()), existing);
    await guard(() => up(upOptions(flags, trust)));
    if (token) await startClusterTunnel(resolve(flags.dir ?? defaultInstanceDir()), token);
  });

const clusterTunnel = () => import('./cluster-tunnel.js');

/** Hands the token to the VM, which starts the agent. */
async function startClusterTunnel(dir: string, token: string): Promise<void> {
  const [{ handOverToken }, { sshStream }] = await Promise.all([clusterTunnel(), import('./vagrant.js')]);
  await guard(() => handOverToken(dir, token, sshStream));
  log('in-cluster tunnel: the authtoken is in the VM (root only); the box starts the ngrok agent');
}

program
  .command('kubeconfig')
  .description("write the VM cluster's kubeconfig into the instance folder and print the export line for kubectl")
  .addOption(dirOption())
  .action(async (flags) => {
    const dir = resolve(flags.dir ?? defaultInstanceDir());
    await guard(() => requireInstance(dir));
    const [{ writeKubeconfig }, { sshExec }] = await Promise.all([import('./kubeconfig.js'), import('./vagrant.js')]);
    const file = await guard(() => writeKubeconfig(dir, sshExec));
    log(`kubeconfig: ${file} (0600; the API on 127.0.0.1:${BOX_FACTS.ports.apiServer.host}, forwarded from the VM)`);
    // Quoted for the shell: the README's `eval "$(airy-bootstrap kubeconfig)"` must run nothing a folder name holds.
    process.stdout.write(`export KUBECONFIG=${shellQuote(file)}\n`);
  });

program
  .command('cluster-tunnel')
  .description('start the ngrok agent inside the cluster, with the authtoken from NGROK_AUTHTOKEN')
  .addOption(dirOption())
  .action(async (flags) => {
    const dir = resolve(flags.dir ?? defaultInstanceDir());
    const token = await guard(async () => (await clusterTunnel()).tunnelToken());
    await guard(() => requireInstance(dir));
    await startClusterTunnel(dir, token);
  });

const downloadCommand = program
  .command('download')
  .description('download and verify a box alone: parallel, resumable, checksummed')
  .requiredOption('--catalog <url>', 'box catalog: https, http or file URL, or a path', catalogArg)
  .option('--box-version <version>', 'latest, or an exact box version', boxVersion('--box-version'), 'latest')
  .addOption(new Option('--provider <provider>', 'Vagrant provider').choices(PROVIDERS).default('libvirt'))
  .addOption(new Option('--architecture <arch>', 'box architecture (default: this machine\'s)').choices(ARCHITECTURES))
  .requiredOption('--out <file>', 'where the verified box goes')
  .option('--connections <n>', 'pin the number of parallel connections (default: adaptive, 8 to 32)', positive('--connections'))
  .option('--no-delta', 'download the whole box, even when an older one in the folder of --out has most of its chunks')
  .option('--cache <folder>', "where a verified catalog's trusted metadata is kept (default: ~/.airy/cache)");
networkOptions(trustOptions(downloadCommand)).action(async (flags) => {
    const architecture = (flags.architecture as Architecture | undefined) ?? vagrantArchitecture(process.arch) ?? 'amd64';
    const limits = networkLimits(flags);
    const trust = await catalogTrust(flags, flags.catalog, resolve(flags.cache ?? defaultCacheDir()));
    const loaded = await guard(() => loadCatalog(flags.catalog, { timeoutMs: limits.catalogTimeoutMs }, trust));
    const chosen = await guard(async () => chooseRelease(loaded, flags.boxVersion, flags.provider, architecture));
    const { version, file } = chosen;
    // A verified catalog: the box and its index are believed only as signed targets, before a byte is fetched.
    const signed = isVerified(loaded) ? await guard(async () => signedRelease(loaded, chosen)) : undefined;
    if (signed) log(`catalog verified (TUF): box ${version.version} is a signed target`);
    let progress: ReturnType<typeof startProgress> | undefined;
    const controller = new AbortController();
    const out = resolve(flags.out);
    const delta = flags.delta !== false ? await deltaRequest(file.chunks_url, out, log, signed?.index) : undefined;
    const size = signed?.size ?? file.size;
    const result = await guard(() =>
      download({
        url: file.url,
        sha256: signed?.sha256 ?? file.checksum,
        out,
        ...(size !== undefined ? { size } : {}),
        folderOption: '--out',
        localRoot: localRootOf(loaded.url),
        ...(delta ? { delta } : {}),
        connections: flags.connections,
        onParallelism: verboseParallelism(),
        lowSpeed: limits.lowSpeed,
        attempts: limits.attempts,
        signal: controller.signal,
        onStart: (info) => {
          progress = startProgress({ label: `download ${version.version}`, total: info.size });
          if (info.resumedBytes) log(`resuming: ${formatBytes(info.resumedBytes)} already here`);
          // A file: box is copied, not fetched: there is no server to blame.
          if (!info.ranged && !file.url.startsWith('file:')) log('the server does not support ranges: one stream');
        },
        onStartOver: (reason) => log(`${reason}: the download starts over`),
        onProgress: (done) => progress?.update(done),
      }).catch((error: unknown) => {
        throw asTargetMismatch(error, signed);
      }),
    ).finally(() => progress?.stop());
    log(result.cached ? `already verified: ${result.path}` : `verified ${result.path} (${formatBytes(result.size)}, sha256 ${file.checksum})`);
    process.stdout.write(`${result.path}\n`);
  });

program
  .command('status')
  .description('the VM and each component of the platform')
  .addOption(dirOption())
  .option('--json', 'print JSON')
  .action(async (flags) => {
    const { status } = await manage();
    const s = await guard(() => status(resolve(flags.dir ?? defaultInstanceDir())));
    if (flags.json) {
      process.stdout.write(`${printableJson(s, 2)}\n`);
      return;
    }
    process.stdout.write(`${printable(`instance ${s.dir}: Airy Core ${s.version} (${s.provider}), VM ${s.vm}`)}\n`);
    // A component's detail is what the VM answered, and the URLs come from the tunnel's state file: escaped too.
    for (const c of s.components) process.stdout.write(`  ${c.name.padEnd(16)} ${c.ready ? 'ready' : printable(c.detail)}\n`);
    process.stdout.write(`tunnel: ${s.tunnel}${s.urls.tunnel === 'online' ? '' : ' (webhooks stay local; airy-tunnel start makes them public)'}\n`);
    for (const [source, url] of Object.entries(s.urls.webhooks)) process.stdout.write(`  ${source.padEnd(16)} ${printable(url)}\n`);
    if (s.vm !== 'running') process.stdout.write('start it with: airy-bootstrap start\n');
  });

program
  .command('stop')
  .description('halt the VM, keeping its disk')
  .addOption(dirOption())
  .action(async (flags) => {
    const { stop } = await manage();
    await guard(() => stop(resolve(flags.dir ?? defaultInstanceDir()), log));
  });

program
  .command('start')
  .description('start a stopped instance, made as it was, and wait for the platform')
  .addOption(dirOption())
  .addOption(waitOption('how long to wait for readiness', WAIT_DEFAULTS.boot))
  .option('--force', 'go on even when preflight checks fail')
  .action(async (flags) => {
    const dir = resolve(flags.dir ?? defaultInstanceDir());
    const { up } = await upModule();
    const state = await guard(() => requireInstance(dir));
    const base = { ...program.opts(), dir, wait: flags.wait, force: flags.force };
    const trust = await catalogTrust(base, state.catalog, state.cacheDir ?? resolve(program.opts().cache ?? defaultCacheDir()), state);
    await guard(() => up({ ...upOptions(base, trust), ...instanceOptions(state) }));
  });

program
  .command('destroy')
  .description('remove the VM (and with --prune the box and its cached download)')
  .addOption(dirOption())
  .option('--prune', 'also remove the box from Vagrant and the download cache')
  .option('--cache <folder>', 'verified box cache (default: the one the instance was made from)')
  .action(async (flags) => {
    const { destroy } = await manage();
    const cache = flags.cache === undefined ? undefined : resolve(flags.cache);
    await guard(() => destroy(resolve(flags.dir ?? defaultInstanceDir()), cache, Boolean(flags.prune), log));
  });

const upgradeCommand = program
  .command('upgrade')
  .description('move to the newest version in the catalog (the VM is recreated; the old box is removed)')
  .addOption(dirOption())
  .addOption(waitOption('how long to wait for readiness (the new box boots for the first time)', WAIT_DEFAULTS.firstBoot))
  .option('--force', 'go on even when preflight checks fail')
  .option('--yes', 'do not ask')
  .option('--no-delta', 'download the whole new box, even when the old one has most of its chunks');
trustOptions(upgradeCommand).action(async (flags) => {
    const { upgrade } = await manage();
    const merged = {
      ...program.opts(),
      dir: flags.dir,
      yes: flags.yes,
      wait: flags.wait,
      force: flags.force,
      delta: flags.delta,
      trustedRoot: flags.trustedRoot,
      allowUnsigned: flags.allowUnsigned,
    };
    // The instance's own catalog, trusted as the instance was made unless a flag says otherwise.
    const state = await guard(() => requireInstance(resolve(flags.dir ?? defaultInstanceDir())));
    const trust = await catalogTrust(merged, state.catalog, state.cacheDir ?? resolve(program.opts().cache ?? defaultCacheDir()), state);
    await guard(() => upgrade(upOptions(merged, trust)));
  });

program
  .command('backup')
  .description("save the platform's database from the running VM into a file (kept private: mode 0600)")
  .addOption(dirOption())
  .requiredOption('--out <file>', 'where the dump goes')
  .action(async (flags) => {
    const { backup } = await manage();
    const out = resolve(flags.out);
    await guard(() => backup(resolve(flags.dir ?? defaultInstanceDir()), out));
    log(`saved the database to ${out}`);
  });

program
  .command('restore')
  .description("load a file from backup (or from an upgrade) into the running platform's database")
  .addOption(dirOption())
  .requiredOption('--from <file>', 'a dump made by backup or upgrade')
  .action(async (flags) => {
    const { restore } = await manage();
    const from = resolve(flags.from);
    await guard(() => restore(resolve(flags.dir ?? defaultInstanceDir()), from));
    log(`restored the database from ${from}`);
  });

program
  .command('doctor')
  .description('every preflight check and the tool versions, as a report to paste into a bug')
  .addOption(dirOption())
  .option('--cpus <n>', 'CPUs of the VM', positive('--cpus'), BOX_FACTS.vm.cpus)
  .option('--memory <mib>', 'MiB of memory of the VM', positive('--memory'), BOX_FACTS.vm.memoryMiB)
  .option('--json', 'print JSON')
  .action(async (flags) => {
    const { doctor } = await manage();
    const found = await doctor({ cacheDir: defaultCacheDir(), cpus: flags.cpus, memoryMiB: flags.memory, dir: resolve(flags.dir ?? defaultInstanceDir()) });
    process.stdout.write(flags.json ? `${JSON.stringify(found.data, null, 2)}\n` : found.report);
    // A report with a FAIL line is a failed check, as preflight's: scripts can tell a healthy host from its code.
    if (!found.data.ok) process.exitCode = ExitCode.preflight;
  });

await runCli(program);
