#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ARCHITECTURES,
  type Architecture,
  boxFileName,
  CATALOG_FILE,
  CatalogError,
  CatalogFetchError,
  ImmutableVersionError,
  isChannel,
  isVersion,
  PROVIDERS,
  type Provider,
  parseContentManifest,
  readCatalog,
} from '@airy/box-catalog';
import {
  AiryError,
  CliError,
  createProgram,
  ExitCode,
  formatBytes,
  guarded,
  onStopSignal,
  packageVersion,
  positive,
  printable,
  printableJson,
  runCli,
  startProgress,
  usageError,
} from '@airy/cli-kit';
import { boxFacts } from '@airy/manifests';
import { Option } from 'commander';
import { type BuildOptions, buildBox } from './build.js';
import { StoreLinkError } from './file-store.js';
import { hashFile } from './hash.js';
import { PromoteError, promoteVersion, publishBox, VerificationError } from './publish.js';
import { type S3Settings, StoreDeadlineError } from './s3-store.js';
import { DEFAULT_EXPIRES_DAYS, initKeys, loadKeys, ROLES, type RoleName, resignTimestamp, rotateRoot, SigningError } from './signing.js';
import { openReader, openStore } from './sources.js';
import { StoreLockedError } from './store.js';

// We pin an SDK release that supports Node 20; its notice about later releases is noise on every run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const BOX_FACTS = boxFacts();

const program = createProgram({
  name: 'airy-box',
  description: 'Build the Airy Core Vagrant box with Packer and publish it to S3 as a versioned catalog.',
  version: packageVersion(import.meta.url),
});

const semverArg = (flag: string) => (value: string) => {
  if (!isVersion(value)) throw usageError(`${flag} ${value}: not a semantic version (e.g. 1.4.0)`);
  return value;
};
const channelArg = (value: string) => {
  if (!isChannel(value)) throw usageError(`--channel ${value}: use lowercase letters, digits and dashes`);
  return value;
};
// Escaped: a log line may quote a catalog, a store or Packer.
const log = (line: string) => process.stderr.write(`${printable(line)}\n`);

/**
 * The reasons of the errors that carry none of their own (box-catalog's, the store's, the AWS SDK's); the registry
 * gives each its exit code, and runCli prints it.
 */
function toCliError(error: unknown): AiryError | undefined {
  if (error instanceof CatalogError) return new AiryError('CATALOG_MALFORMED', `malformed catalog: ${error.message}`);
  if (error instanceof PromoteError) return new AiryError('PROMOTE_REFUSED', error.message);
  if (error instanceof CatalogFetchError) return new AiryError('CATALOG_UNREACHABLE', `${error.message}: check --from and the network`);
  if (error instanceof ImmutableVersionError) return new AiryError('PUBLISH_VERSION_IMMUTABLE', error.message);
  if (error instanceof VerificationError) return new AiryError('PUBLISH_VERIFY_FAILED', error.message);
  const e = error as Error & { code?: string; name?: string };
  const code = e.code ?? (e as { cause?: { code?: string } }).cause?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT') {
    return new AiryError('STORE_UNREACHABLE', `cannot reach the store (${code}): check --endpoint, AWS_ENDPOINT_URL_S3 and the network`);
  }
  if (e.name === 'CredentialsProviderError') {
    return new AiryError('STORE_NO_CREDENTIALS', 'no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  }
  if (e.name === 'AccessDenied' || e.name === 'InvalidAccessKeyId' || e.name === 'SignatureDoesNotMatch') {
    return new AiryError('STORE_CREDENTIALS_REFUSED', `the store refused our credentials (${e.name}): check AWS_PROFILE or the keys`);
  }
  if (error instanceof StoreDeadlineError) return new AiryError('STORE_DEADLINE', `${error.message}: check the store and the network, then publish again`);
  if (error instanceof StoreLinkError) return new AiryError('STORE_LINK', error.message);
  if (error instanceof StoreLockedError) return new AiryError('LOCKED', error.message);
  // Keys that are missing or not keys are the user's input (exit 2); metadata the store holds that is not ours is a
  // failure (exit 1): the registry says which. The reason leads the line, as it always has.
  if (error instanceof SigningError) return new AiryError(error.reason, `${error.reason}: ${error.message}`);
  if (e.name === 'AbortError') return new AiryError('INTERRUPTED', 'interrupted: the upload was aborted, nothing was published');
  return undefined;
}
const guard = <T>(work: () => Promise<T> | T) => guarded(work, toCliError);

function s3Settings(flags: { endpoint?: string; region?: string; publicUrl?: string }): S3Settings {
  return { endpoint: flags.endpoint, region: flags.region, publicUrl: flags.publicUrl };
}

program
  .command('build')
  .description('build the box with Packer: DIR/airy-core-<version>-<provider>.box and DIR/box.json')
  .addOption(new Option('--provider <provider>', 'Vagrant provider').choices(PROVIDERS).default('libvirt'))
  .requiredOption('--box-version <semver>', 'the box version', semverArg('--box-version'))
  .option('--out <dir>', 'output folder', 'dist')
  .addOption(new Option('--architecture <arch>', "the box's architecture (default: this machine's)").choices(ARCHITECTURES))
  .addOption(new Option('--accelerator <accel>', 'qemu acceleration (libvirt)').choices(['auto', 'kvm', 'tcg']).default('auto'))
  .option('--base-image <file-or-url>', 'base image instead of the Ubuntu cloud image (air-gapped builds)')
  .option('--base-image-checksum <sum>', 'sha256:HEX or file:URL (computed for a local --base-image)')
  .option('--skip-downloads', 'skip provisioning steps that download (Minikube, Istio, images); recorded in box.json')
  .option('--restrict-network', 'cut the build VM off every network (with --skip-downloads)')
  .option('--cpus <n>', 'CPUs of the build VM', positive('--cpus'), BOX_FACTS.vm.cpus)
  .option('--memory <mib>', 'MiB of memory of the build VM', positive('--memory'), BOX_FACTS.vm.memoryMiB)
  .option('--disk-size <size>', 'virtual disk size', `${boxFacts().vm.diskMiB}M`)
  .option('--ssh-key <file>', "private key to log in with (default: Vagrant's insecure key)")
  .option('--images <dir>', 'Packer templates and scripts (default: the ones shipped with this package)')
  .option('--registry-mirror <url>', 'a Docker Hub mirror for the build’s image pulls (the box does not keep it)')
  .option('--registry-credentials <file>', 'a 0600 file with USER:TOKEN for Docker Hub, for the build’s pulls only (never printed, not kept in the box)')
  .option('--validate-only', 'stop after preflight and packer validate: check the templates and options, build nothing')
  .action(async (flags) => {
    const controller = new AbortController();
    onStopSignal(() => {
      log('airy-box: stopping Packer and removing partial output…');
      controller.abort();
    });
    const options: BuildOptions = {
      provider: flags.provider as Provider,
      ...(flags.architecture ? { architecture: flags.architecture as Architecture } : {}),
      version: flags.boxVersion,
      outDir: flags.out,
      accelerator: flags.accelerator,
      baseImage: flags.baseImage,
      baseImageChecksum: flags.baseImageChecksum,
      skipDownloads: Boolean(flags.skipDownloads),
      restrictNetwork: Boolean(flags.restrictNetwork),
      cpus: flags.cpus,
      memory: flags.memory,
      diskSize: flags.diskSize,
      sshKey: flags.sshKey,
      imagesDir: flags.images,
      ...(flags.registryMirror !== undefined ? { registryMirror: flags.registryMirror } : {}),
      ...(flags.registryCredentials !== undefined ? { registryCredentials: flags.registryCredentials } : {}),
      log,
    };
    if (flags.validateOnly) {
      await guard(() => buildBox({ ...options, validateOnly: true }, controller.signal));
      return;
    }
    const result = await guard(() => buildBox({ ...options, validateOnly: false }, controller.signal));
    process.stdout.write(`${result.boxFile}\n`);
    log(`built ${result.boxFile} (${formatBytes(result.manifest.size ?? 0)}, sha256 ${result.manifest.sha256}) in ${result.seconds}s`);
  });

program
  .command('publish')
  .description('upload a built box, verify it, add it to the catalog and move the channel')
  .option('--from <dir>', 'folder with box.json and the box', 'dist')
  .option('--to <url>', 's3://bucket/prefix or file:///folder (default: file://<cwd>/catalog)')
  .option('--endpoint <url>', 'S3-compatible endpoint (MinIO, R2); also AWS_ENDPOINT_URL_S3')
  .option('--region <region>', 'AWS region; also AWS_REGION')
  .option('--public-url <url>', 'base URL downloaders use for the bucket (e.g. a CDN)')
  .option('--channel <name>', 'channel to move to this version when newer', channelArg, 'latest')
  .option('--part-size <mib>', 'multipart part size in MiB', positive('--part-size'), 16)
  .option('--concurrency <n>', 'parts uploaded at once', positive('--concurrency'), 4)
  .option('--keys <dir>', 'sign what is published (TUF): the folder made by airy-box keys init (targets, snapshot, timestamp keys)')
  .action(async (flags) => {
    // Ctrl-C and SIGTERM end every store call at once (each also has a deadline), and abort the upload's parts.
    const controller = new AbortController();
    let stoppedBy: 'SIGINT' | 'SIGTERM' | undefined;
    onStopSignal((signal) => {
      stoppedBy = signal;
      log(`airy-box: ${signal}, stopping the publish…`);
      controller.abort();
    });
    // The destination first: a bad --to fails at once, before a multi-gigabyte box is hashed.
    const store = openStore(flags.to ?? pathToFileURL(resolve('catalog')).href, s3Settings(flags), { signal: controller.signal }, log);
    const from = resolve(flags.from);
    // The keys before the box: a missing key fails at once, not after a multi-gigabyte upload.
    const signing = flags.keys ? await guard(() => loadKeys(resolve(flags.keys))) : undefined;
    const manifestText = await readFile(join(from, 'box.json'), 'utf8').catch(() => {
      throw usageError(`cannot read ${join(from, 'box.json')}: build first, or pass --from DIR`);
    });
    const manifest = await guard(async () => parseContentManifest(manifestText, join(from, 'box.json')));
    const boxFile = join(from, boxFileName(manifest.version, manifest.provider));
    const actual = await hashFile(boxFile).catch(() => {
      throw usageError(`cannot read the box ${boxFile}: build first, or pass --from DIR`);
    });
    if (actual.sha256 !== manifest.sha256 || actual.size !== manifest.size) {
      throw usageError(`${boxFile} does not match box.json (sha256 ${actual.sha256}): the box is corrupt or was changed, rebuild it`);
    }
    const progress = startProgress({ label: 'upload', total: actual.size });
    const result = await guard(() =>
      publishBox(store, {
        boxFile,
        manifest,
        channel: flags.channel,
        partSize: flags.partSize * 2 ** 20,
        concurrency: flags.concurrency,
        onProgress: (sent) => progress.update(sent),
        signal: controller.signal,
        log,
        ...(signing ? { signing } : {}),
      }),
    )
      .catch((error: unknown) => {
        if (!stoppedBy) throw error;
        throw new CliError(
          `${stoppedBy === 'SIGTERM' ? 'terminated' : 'interrupted'}: the publish stopped, no upload parts are left behind; run it again to finish`,
          stoppedBy === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted,
        );
      })
      .finally(() => progress.stop());
    process.stdout.write(`${result.catalogUrl}\n`);
    log(
      `published ${manifest.version} (${manifest.provider}) to ${store.location}; channel ${result.channel.name} → ${result.channel.version}` +
        `${result.uploaded ? '' : ' (the box was already there)'}\nadd it with: vagrant box add ${result.catalogUrl}`,
    );
  });

const days = (flag: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw usageError(`${flag} ${value}: a positive number of days (e.g. 365, or 0.5)`);
  return n;
};
const expiryOptions = (cmd: ReturnType<typeof program.command>) => {
  for (const role of ROLES) cmd.option(`--${role}-expires <days>`, `days ${role} metadata stays valid`, days(`--${role}-expires`), DEFAULT_EXPIRES_DAYS[role]);
  return cmd;
};
const keysCommand = program.command('keys').description('the signing keys of a catalog (TUF): make them, rotate the root');
expiryOptions(
  keysCommand
    .command('init')
    .description('make ed25519 keys for root, targets, snapshot and timestamp (DIR/private, 0600) and the signed DIR/root.json')
    .argument('<dir>', 'the keys folder (keep the root keys offline afterwards)')
    .option('--root-keys <n>', 'root keys to make', positive('--root-keys'), 1)
    .option('--root-threshold <n>', 'root keys that must sign a new root', positive('--root-threshold'), 1),
).action(async (dir: string, flags) => {
  const expiresDays = Object.fromEntries(ROLES.map((r) => [r, flags[`${r}Expires`] as number])) as Record<RoleName, number>;
  const root = await guard(() => initKeys(resolve(dir), { rootKeys: flags.rootKeys, rootThreshold: flags.rootThreshold, expiresDays }));
  process.stdout.write(`${join(resolve(dir), 'root.json')}\n`);
  log(
    `made the keys in ${resolve(dir)} (root version ${root.signed.version}, expires ${root.signed.expires}). ` +
      'Give root.json to clients (--trusted-root); move private/root-*.pem offline; publish with --keys.',
  );
});

keysCommand
  .command('rotate-root')
  .description('sign root version N+1 with new root keys (and new keys for --roles), signed by the old root keys')
  .argument('<dir>', 'the keys folder, with the current root keys in DIR/private')
  .option('--roles <list>', 'also replace these roles\' keys: targets,snapshot,timestamp (after a leak)', '')
  .option('--root-keys <n>', 'root keys to make (default: as many as now)', positive('--root-keys'))
  .option('--root-threshold <n>', 'root keys that must sign the next root (default: as now)', positive('--root-threshold'))
  .action(async (dir: string, flags) => {
    const roles = (flags.roles as string).split(',').filter(Boolean);
    const bad = roles.find((r) => !(ROLES as readonly string[]).includes(r) || r === 'root');
    if (bad) throw usageError(`--roles ${bad}: use targets, snapshot or timestamp (root is always replaced)`);
    const root = await guard(() =>
      rotateRoot(resolve(dir), {
        roles: roles as RoleName[],
        ...(flags.rootKeys ? { rootKeys: flags.rootKeys } : {}),
        ...(flags.rootThreshold ? { rootThreshold: flags.rootThreshold } : {}),
      }),
    );
    process.stdout.write(`${join(resolve(dir), 'root.json')}\n`);
    log(`signed root version ${root.signed.version}; the old keys are in private/retired. The next publish or timestamp uploads it; clients follow it.`);
  });

program
  .command('timestamp')
  .description('re-sign only the timestamp (for a scheduled job: a quiet catalog does not expire)')
  .requiredOption('--keys <dir>', 'the keys folder; only the timestamp key is needed')
  .option('--to <url>', 's3://bucket/prefix or file:///folder', pathToFileURL(resolve('catalog')).href)
  .option('--endpoint <url>', 'S3-compatible endpoint')
  .option('--region <region>', 'AWS region')
  .action(async (flags) => {
    const store = openStore(flags.to, s3Settings(flags), {}, log);
    const keys = await guard(() => loadKeys(resolve(flags.keys)));
    const result = await guard(() => resignTimestamp(store, keys));
    log(`timestamp version ${result.version} signed, valid until ${result.expires}`);
    for (const soon of result.expiringSoon) log(`warning: ${soon} expires within 30 days: publish again (with the targets and snapshot keys) to re-sign it`);
  });

const catalog = program.command('catalog').description('read and manage a published catalog');
const from = (cmd: ReturnType<typeof catalog.command>) =>
  cmd
    .option('--from <url>', 's3://bucket/prefix, file:///folder or http(s)://…/metadata.json', pathToFileURL(resolve('catalog')).href)
    .option('--endpoint <url>', 'S3-compatible endpoint')
    .option('--region <region>', 'AWS region');

async function loadCatalog(flags: { from: string; endpoint?: string; region?: string }) {
  const reader = openReader(flags.from, s3Settings(flags));
  const url = `${reader.location}/${CATALOG_FILE}`;
  const loaded = await guard(() => readCatalog(async (key) => (await reader.get(key))?.body, url));
  if (!loaded) throw usageError(`no catalog at ${url}: publish first, or check --from`);
  return { catalog: loaded.catalog, latest: loaded.latest?.version };
}

from(catalog.command('list').description('versions, providers, sizes and checksums, newest first'))
  .option('--json', 'print JSON')
  .action(async (flags) => {
    const { catalog: c, latest } = await loadCatalog(flags);
    const rows = c.versions.flatMap((v) =>
      v.providers.map((p) => ({ version: v.version, provider: p.name, architecture: p.architecture, size: p.size, sha256: p.checksum, latest: v.version === latest })),
    );
    if (flags.json) {
      process.stdout.write(`${printableJson(rows, 2)}\n`);
      return;
    }
    process.stdout.write(`${printable(c.name)}: ${c.versions.length} version(s)\n`);
    for (const r of rows) {
      process.stdout.write(`${printable(r.version)}${r.latest ? ' (latest)' : ''}\t${printable(r.provider)}/${printable(r.architecture)}\t${r.size === undefined ? '?' : formatBytes(r.size)}\tsha256:${r.sha256}\n`);
    }
  });

from(catalog.command('show').description('print the catalog (or one version) as JSON'))
  .argument('[version]', 'one version only')
  .action(async (version: string | undefined, flags) => {
    const { catalog: c } = await loadCatalog(flags);
    const out = version ? c.versions.find((v) => v.version === version) : c;
    if (!out) throw usageError(`the catalog has no version ${version}`);
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  });

catalog
  .command('promote')
  .description('point a channel at a published version (a rollback moves latest back)')
  .requiredOption('--box-version <semver>', 'the box version', semverArg('--box-version'))
  .option('--channel <name>', 'channel', channelArg, 'latest')
  .option('--to <url>', 's3://bucket/prefix or file:///folder', pathToFileURL(resolve('catalog')).href)
  .option('--endpoint <url>', 'S3-compatible endpoint')
  .option('--region <region>', 'AWS region')
  .option('--keys <dir>', 'sign the moved channel (TUF), as publish --keys does: the targets, snapshot and timestamp keys')
  .action(async (flags) => {
    const store = openStore(flags.to, s3Settings(flags), {}, log);
    // The keys first: a missing key fails before anything moves.
    const signing = flags.keys ? await guard(() => loadKeys(resolve(flags.keys))) : undefined;
    const result = await guard(() => promoteVersion(store, { channel: flags.channel, version: flags.boxVersion, log, ...(signing ? { signing } : {}) }));
    log(`channel ${flags.channel} → ${flags.boxVersion}${result.signed ? ` (signed: targets version ${result.signed.targetsVersion})` : ''}`);
  });

await runCli(program);
