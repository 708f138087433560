/**
 * `airy-box build`: preflight, stage, `packer validate`, `packer build` with a phase display, then the box and its
 * content manifest. Ctrl-C stops Packer and removes partial output.
 */
import { lstat, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { resyncBox } from './box-file.js';
import { type Architecture, type BoxContentManifest, boxFileName, type Provider, stringifyContentManifest, vagrantArchitecture } from '@airy/box-catalog';
import { boxFactsEnv, boxImages, COMPONENT_VERSIONS, imageArchitectures } from '@airy/manifests';
import { AiryError, redact, writeFileAtomic } from '@airy/cli-kit';
import { $ } from 'zx';
import { boxManifestFiles, contentManifest } from './content.js';
import { hashFile } from './hash.js';
import { gatherHostFacts, IMAGES_DIR, isSshPublicKey, localOva, missingImageParts, ovaDryRun, removeDir, runPacker, stagePayload, stageTemplates, writeVarFile } from './packer.js';
import { defaultBaseImage } from './architecture.js';
import { buildPeakBytes, chooseAccelerator, packerNeedsPlugins, phaseOf, preflight } from './preflight.js';
import { diskSizeMiB, ovaDiskUnit } from './virtualbox.js';

/** Options of a build. */
export interface BuildOptions {
  readonly provider: Provider;
  /** The box's architecture. @default the machine's own */
  readonly architecture?: Architecture;
  readonly version: string;
  readonly outDir: string;
  readonly accelerator: 'auto' | 'kvm' | 'tcg';
  /** A local or remote base image instead of the default cloud image (air-gapped builds, tests). */
  readonly baseImage?: string;
  /** Its checksum (`sha256:HEX` or `file:URL`); computed for a local file when absent. */
  readonly baseImageChecksum?: string;
  /** Skip the provisioning steps that download; recorded in the content manifest. */
  readonly skipDownloads: boolean;
  /** Cut the build VM off every network (requires skipDownloads). */
  readonly restrictNetwork: boolean;
  readonly cpus: number;
  readonly memory: number;
  readonly diskSize: string;
  readonly sshKey?: string;
  /** The folder with the Packer templates and scripts. @default the ones shipped with this package */
  readonly imagesDir?: string;
  /**
   * A registry mirror for Docker Hub during the build's image pulls (an http(s) URL); the box does not keep it.
   * @default none: images come from their registries
   */
  readonly registryMirror?: string;
  /**
   * A file holding `USER:TOKEN` for Docker Hub (mode 0600, the user's own), used by the build's image pulls only:
   * handed to Packer in its environment as a sensitive variable, never written to a file, never printed, not kept
   * in the box. @default none: anonymous pulls (10 an hour per address)
   */
  readonly registryCredentials?: string;
  /** Stop after preflight and `packer validate`: check the templates and options, build nothing. */
  readonly validateOnly?: boolean;
  readonly log: (line: string) => void;
}

/** What a build produced. */
export interface BuildResult {
  readonly boxFile: string;
  readonly manifestFile: string;
  readonly manifest: BoxContentManifest;
  readonly seconds: number;
}

const SOURCES: Record<Provider, string> = { libvirt: 'qemu.airy-core', virtualbox: 'virtualbox-ovf.airy-core' };
const DOWNLOAD_STEPS = ['base-packages', 'container-runtime', 'kubernetes', 'istio', 'images'];

async function gitCommit(imagesDir: string): Promise<string> {
  const out = await $({ quiet: true, nothrow: true, cwd: imagesDir })`git rev-parse HEAD`;
  return out.exitCode === 0 ? out.stdout.trim() : 'unknown';
}

async function baseImageVars(options: BuildOptions, architecture: Architecture): Promise<Record<string, string>> {
  if (!options.baseImage) {
    const base = defaultBaseImage(options.provider, architecture);
    if ('missing' in base) throw new AiryError('BUILD_BASE_IMAGE_INVALID', base.missing);
    return options.provider === 'libvirt'
      ? { base_image: base.image, base_image_checksum: base.checksum }
      : { base_image_ova: base.image, base_image_ova_checksum: base.checksum };
  }
  const isUrl = /^[a-z]+:\/\//.test(options.baseImage);
  const url = isUrl ? options.baseImage : `file://${resolve(options.baseImage)}`;
  let checksum = options.baseImageChecksum;
  if (!checksum) {
    if (isUrl && !url.startsWith('file://')) throw new AiryError('BUILD_BASE_IMAGE_INVALID', '--base-image-checksum is required for a remote --base-image');
    checksum = `sha256:${(await hashFile(new URL(url).pathname).catch(() => {
      throw new AiryError('BUILD_BASE_IMAGE_INVALID', `cannot read --base-image ${options.baseImage}: check the path`);
    })).sha256}`;
  }
  return options.provider === 'libvirt'
    ? { base_image: url, base_image_checksum: checksum }
    : { base_image_ova: url, base_image_ova_checksum: checksum };
}

/**
 * Whether `url` may be handed to containerd as a registry mirror: http(s), a host name or address, an optional
 * port and path, nothing that TOML or the shell would read as syntax, and no credentials.
 */
export function isRegistryMirror(url: string): boolean {
  return registryMirrorProblem(url) === undefined;
}

/** What is wrong with `url` as a registry mirror (see {@link isRegistryMirror}), or undefined when nothing is. Pure. */
export function registryMirrorProblem(url: string): string | undefined {
  const m = /^https?:\/\/[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::(\d{1,5}))?(\/[A-Za-z0-9._~/-]*)?$/.exec(url);
  if (!m) return 'not a plain http(s) URL of a registry (e.g. https://mirror.example.com)';
  // Five digits pass the pattern but not every number is a port: 0 and 65536-99999 would reach containerd.
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return `port ${m[2]} is out of range: give one from 1 to 65535`;
  return undefined;
}

/** A Docker Hub credential for the build's pulls. */
export interface RegistryCredential {
  readonly user: string;
  readonly token: string;
}

/** The most a credentials file may hold: one `USER:TOKEN` line (Docker Hub's tokens are far shorter). */
const CREDENTIALS_MAX_BYTES = 4096;

/**
 * The credential in a credentials file's text (`USER:TOKEN`, one line, a final newline allowed), or what is wrong
 * with it. The problem never quotes the text: it holds a secret. Pure.
 */
export function parseRegistryCredentials(text: string): RegistryCredential | { problem: string } {
  const line = text.replace(/\r?\n$/, '');
  if (line.includes('\n')) return { problem: 'it holds more than one line: give one USER:TOKEN line' };
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]{0,254}):([\x21-\x7e]{1,2048})$/.exec(line);
  if (!m) return { problem: 'it is not one USER:TOKEN line (a Docker Hub user name, a colon, an access token without spaces)' };
  return { user: m[1] as string, token: m[2] as string };
}

/**
 * What is wrong with a credentials file's metadata, as the project treats files that hold secrets: a regular file
 * (not a link), the user's own, readable by no one else (0600). Pure.
 */
export function credentialsFileProblem(info: { isFile: boolean; isLink: boolean; mode: number; uid: number; size: number }, uid: number | undefined): string | undefined {
  if (info.isLink) return 'it is a symbolic link: give the file itself';
  if (!info.isFile) return 'it is not a regular file';
  if (uid !== undefined && info.uid !== uid) return 'it belongs to another user: give a file of your own';
  if ((info.mode & 0o077) !== 0) return `its mode is ${(info.mode & 0o777).toString(8).padStart(4, '0')}: it holds a secret, so chmod 600 it`;
  if (info.size > CREDENTIALS_MAX_BYTES) return `it is larger than ${CREDENTIALS_MAX_BYTES} bytes: give one USER:TOKEN line`;
  return undefined;
}

/** Reads and checks `--registry-credentials FILE`; every problem is one line (exit 2) that never shows the secret. */
export async function readRegistryCredentials(file: string): Promise<RegistryCredential> {
  const fail = (why: string) => new AiryError('BUILD_REGISTRY_CREDENTIALS_INVALID', `--registry-credentials ${file}: ${why}`);
  const info = await lstat(file).catch(() => {
    throw fail('cannot read it: check the path');
  });
  const problem = credentialsFileProblem(
    { isFile: info.isFile(), isLink: info.isSymbolicLink(), mode: info.mode, uid: info.uid, size: info.size },
    process.getuid?.(),
  );
  if (problem) throw fail(problem);
  const parsed = parseRegistryCredentials(await readFile(file, 'utf8'));
  if ('problem' in parsed) throw fail(parsed.problem);
  return parsed;
}

/**
 * Builds the box: preflight, staging, `packer validate`, `packer build`, then the box file and its content manifest
 * in `outDir`. Throws {@link AiryError} with its reason on every expected failure; an aborted `signal` stops
 * Packer and removes partial output.
 */
export function buildBox(options: BuildOptions & { readonly validateOnly?: false }, signal?: AbortSignal): Promise<BuildResult>;
/** With `validateOnly`, resolves to `undefined` once `packer validate` passed. */
export function buildBox(options: BuildOptions & { readonly validateOnly: true }, signal?: AbortSignal): Promise<undefined>;
export async function buildBox(options: BuildOptions, signal?: AbortSignal): Promise<BuildResult | undefined> {
  const started = Date.now();
  const outDir = resolve(options.outDir);
  const log = options.log;
  if (options.restrictNetwork && !options.skipDownloads) {
    throw new AiryError('BUILD_OPTIONS_CONFLICT', '--restrict-network needs --skip-downloads: a VM without network cannot download');
  }
  const imagesDir = resolve(options.imagesDir ?? IMAGES_DIR);
  const missing = await missingImageParts(imagesDir);
  if (missing.length > 0) {
    throw new AiryError(
      'BUILD_TEMPLATES_NOT_FOUND',
      `the Packer templates are not in ${imagesDir} (missing ${missing.join(', ')}): pass --images with the folder that holds airy-core/, scripts/ and files/`,
    );
  }

  // A host no box is built for builds the common one, emulated.
  const architecture = options.architecture ?? vagrantArchitecture() ?? 'amd64';
  // A box that pulls its images needs every one for its architecture: say so now, not after an hour in images.sh.
  const unbuilt = options.skipDownloads ? [] : boxImages().filter((image) => !imageArchitectures(image).includes(architecture));
  if (unbuilt.length > 0) {
    throw new AiryError(
      'BUILD_ARCH_UNSUPPORTED',
      `cannot build an ${architecture} box: ${unbuilt.length} images have no ${architecture} build: ${unbuilt.join(', ')}; build --architecture amd64 (it runs on Apple Silicon under emulation only), or wait for a release with ${architecture} images`,
    );
  }
  const mirrorProblem = options.registryMirror === undefined ? undefined : registryMirrorProblem(options.registryMirror);
  if (mirrorProblem) throw new AiryError('BUILD_REGISTRY_MIRROR_INVALID', `--registry-mirror ${options.registryMirror}: ${mirrorProblem}`);
  if (options.registryCredentials !== undefined && options.skipDownloads) {
    throw new AiryError('BUILD_OPTIONS_CONFLICT', '--registry-credentials is for the image pulls, which --skip-downloads leaves out: drop one of them');
  }
  // containerd's CRI offers a pull's credential to every host it tries for the image, the mirror first
  // (awslabs/soci-snapshotter#1012 on containerd's image_pull.go): the Docker Hub token would reach the mirror.
  if (options.registryCredentials !== undefined && options.registryMirror !== undefined) {
    throw new AiryError('BUILD_OPTIONS_CONFLICT', 'give --registry-mirror or --registry-credentials, not both: containerd would hand the Docker Hub credential to the mirror too');
  }
  const credential = options.registryCredentials === undefined ? undefined : await readRegistryCredentials(options.registryCredentials);
  const secret = credential ? [`${credential.user}:${credential.token}`, credential.token] : [];
  if (architecture === 'arm64' && options.restrictNetwork) {
    throw new AiryError('BUILD_OPTIONS_CONFLICT', '--restrict-network cannot build arm64: its seed comes over the build’s HTTP server');
  }
  const diskMiB = diskSizeMiB(options.diskSize);
  if (diskMiB === undefined) throw new AiryError('BUILD_DISK_SIZE_INVALID', `--disk-size ${options.diskSize}: give MiB as a number, or with M, G or T (e.g. 40960M or 40G)`);
  let baseVars = await baseImageVars(options, architecture);
  const facts = await gatherHostFacts(outDir, options.sshKey, architecture);
  const checks = preflight(facts, {
    provider: options.provider,
    accelerator: options.accelerator,
    architecture,
    requiredFreeBytes: buildPeakBytes(options.skipDownloads),
  });
  for (const c of checks) log(`preflight: ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}${c.fix ? ` (${c.fix})` : ''}`);
  const failed = checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    throw new AiryError('PREFLIGHT_FAILED', `preflight failed: ${failed.map((c) => `${c.name}: ${c.fix ?? c.detail}`).join('; ')}`);
  }
  // The VirtualBox build imports its OVA's disk to a VDI at a path of its own and grows it before booting (N7):
  // that takes the disk's unit in VBoxManage's import listing, which needs the OVA as a local file. Validating the
  // templates needs neither, so --validate-only downloads nothing.
  let ovaUnit = -1;
  if (options.provider === 'virtualbox' && !options.validateOnly) {
    const ova = await localOva(baseVars.base_image_ova as string, baseVars.base_image_ova_checksum as string, join(outDir, '.cache'), log, signal);
    baseVars = { base_image_ova: `file://${ova.path}`, base_image_ova_checksum: `sha256:${ova.sha256}` };
    const unit = ovaDiskUnit(await ovaDryRun(ova.path));
    if (typeof unit !== 'number') throw new AiryError('BUILD_BASE_IMAGE_INVALID', `the base OVA ${ova.path}: ${unit.problem}: pass --base-image with an OVA of one disk`);
    ovaUnit = unit;
  }
  const packerVersion = facts.packerVersion as string;
  const sshKey = facts.sshKey as string;

  const skipped = options.skipDownloads ? DOWNLOAD_STEPS : [];
  const facts0 = {
    version: options.version,
    provider: options.provider,
    architecture,
    createdAt: new Date().toISOString(),
    gitCommit: await gitCommit(imagesDir),
    skipped,
  };
  const inside = contentManifest(facts0);
  const sshPublicKey = await readFile(`${sshKey}.pub`, 'utf8').catch(() => {
    throw new AiryError('BUILD_SSH_KEY_MISSING', `${sshKey}.pub is missing: pass --ssh-key with a key whose .pub is beside it`);
  });
  if (!isSshPublicKey(sshPublicKey)) {
    throw new AiryError('BUILD_SSH_KEY_INVALID', `${sshKey}.pub is not one OpenSSH public key line: pass --ssh-key with a key whose .pub is beside it`);
  }
  const payload = await stagePayload({
    imagesDir,
    factsEnv: boxFactsEnv(),
    deployments: boxManifestFiles(),
    images: inside.images,
    contentManifest: stringifyContentManifest(inside),
    sshPublicKey,
  });
  const templates = await stageTemplates(imagesDir, packerNeedsPlugins(packerVersion));
  const work = join(outDir, `.packer-${options.provider}`);
  const boxFile = join(outDir, boxFileName(options.version, options.provider));
  const manifestFile = join(outDir, 'box.json');
  await rm(work, { recursive: true, force: true });

  try {
    const vars = {
      box_version: options.version,
      cpus: options.cpus,
      memory: options.memory,
      disk_size: options.diskSize,
      disk_mib: diskMiB,
      ova_disk_unit: ovaUnit,
      kubernetes_version: COMPONENT_VERSIONS.kubernetes,
      minikube_version: COMPONENT_VERSIONS.minikube,
      istio_version: COMPONENT_VERSIONS.istio,
      crictl_version: COMPONENT_VERSIONS.crictl,
      architecture,
      efi_firmware: facts.firmware ?? '',
      accelerator: chooseAccelerator(facts, options.accelerator, architecture),
      output_directory: work,
      payload_dir: payload,
      scripts_dir: join(imagesDir, 'scripts'),
      skip_downloads: options.skipDownloads,
      registry_mirror: options.registryMirror ?? '',
      restrict_network: options.restrictNetwork,
      ssh_private_key_file: sshKey,
      ...baseVars,
    };
    const varFile = await writeVarFile(templates, vars);
    const only = `-only=${SOURCES[options.provider]}`;
    // The credential reaches Packer only in its environment (a sensitive variable, which Packer prints as
    // <sensitive>), never in the variable file or on a command line; every line is blanked of it all the same.
    const step = async (name: string, args: string[], env: Record<string, string> = {}) => {
      const run = runPacker(args, templates, (raw) => {
        const line = redact(raw, secret);
        const phase = phaseOf(line);
        if (phase && phase !== current) {
          current = phase;
          log(`phase: ${phase} (after ${Math.round((Date.now() - started) / 1000)}s)`);
        }
        log(`packer | ${line}`);
      }, env);
      const onAbort = () => run.stop();
      signal?.addEventListener('abort', onAbort, { once: true });
      const { exitCode, tail } = await run.done.finally(() => signal?.removeEventListener('abort', onAbort));
      if (signal?.aborted) throw new AiryError('INTERRUPTED', 'interrupted: Packer stopped, partial output removed');
      if (exitCode !== 0) {
        throw new AiryError('PACKER_FAILED', `packer ${name} failed (exit ${exitCode}): ${redact(tail.filter(Boolean).slice(-3).join(' | '), secret)}`);
      }
    };
    let current: string | undefined;
    if (packerNeedsPlugins(packerVersion)) await step('init', ['init', '.']);
    await step('validate', ['validate', `-var-file=${varFile}`, only, '.']);
    if (options.validateOnly) {
      log(`packer validate: the templates and options are valid (${options.provider})`);
      return undefined;
    }
    log(`phase: build starts (${options.provider}, accelerator ${vars.accelerator})`);
    const credentialEnv: Record<string, string> = credential ? { PKR_VAR_registry_credentials: `${credential.user}:${credential.token}` } : {};
    await step('build', ['build', '-color=false', `-var-file=${varFile}`, only, '.'], credentialEnv);

    const built = join(work, boxFileName(options.version, options.provider));
    // Packer writes the tar; it is compressed here so that consecutive boxes share their compressed bytes.
    log('phase: compressing the box (resynchronising gzip, for delta downloads)');
    await resyncBox(built, { signal });
    await rename(built, boxFile);
    const file = await hashFile(boxFile);
    const manifest = contentManifest({ ...facts0, file });
    await writeFileAtomic(manifestFile, stringifyContentManifest(manifest));
    return { boxFile, manifestFile, manifest, seconds: Math.round((Date.now() - started) / 1000) };
  } catch (error) {
    await rm(boxFile, { force: true });
    throw error;
  } finally {
    await Promise.all([removeDir(work), removeDir(payload), removeDir(templates)]);
  }
}
