/**
 * `airy-box build`: preflight, stage, `packer validate`, `packer build` with a phase display, then the box and its
 * content manifest. Ctrl-C stops Packer and removes partial output.
 */
import { readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { resyncBox } from './box-file.js';
import { type Architecture, type BoxContentManifest, boxFileName, type Provider, stringifyContentManifest, vagrantArchitecture } from '@airy/box-catalog';
import { boxFactsEnv, boxImages, COMPONENT_VERSIONS, imageArchitectures } from '@airy/manifests';
import { CliError, ExitCode, writeFileAtomic } from '@airy/cli-kit';
import { $ } from 'zx';
import { boxManifestFiles, contentManifest } from './content.js';
import { hashFile } from './hash.js';
import { gatherHostFacts, IMAGES_DIR, isSshPublicKey, missingImageParts, removeDir, runPacker, stagePayload, stageTemplates, writeVarFile } from './packer.js';
import { defaultBaseImage } from './architecture.js';
import { buildPeakBytes, chooseAccelerator, packerNeedsPlugins, phaseOf, preflight } from './preflight.js';

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
    if ('missing' in base) throw new CliError(base.missing, ExitCode.usage);
    return options.provider === 'libvirt'
      ? { base_image: base.image, base_image_checksum: base.checksum }
      : { base_image_ova: base.image, base_image_ova_checksum: base.checksum };
  }
  const isUrl = /^[a-z]+:\/\//.test(options.baseImage);
  const url = isUrl ? options.baseImage : `file://${resolve(options.baseImage)}`;
  let checksum = options.baseImageChecksum;
  if (!checksum) {
    if (isUrl && !url.startsWith('file://')) throw new CliError('--base-image-checksum is required for a remote --base-image', ExitCode.usage);
    checksum = `sha256:${(await hashFile(new URL(url).pathname).catch(() => {
      throw new CliError(`cannot read --base-image ${options.baseImage}: check the path`, ExitCode.usage);
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

/**
 * Builds the box: preflight, staging, `packer validate`, `packer build`, then the box file and its content manifest
 * in `outDir`. Throws {@link CliError} with the right exit code on every expected failure; an aborted `signal` stops
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
    throw new CliError('--restrict-network needs --skip-downloads: a VM without network cannot download', ExitCode.usage);
  }
  const imagesDir = resolve(options.imagesDir ?? IMAGES_DIR);
  const missing = await missingImageParts(imagesDir);
  if (missing.length > 0) {
    throw new CliError(
      `the Packer templates are not in ${imagesDir} (missing ${missing.join(', ')}): pass --images with the folder that holds airy-core/, scripts/ and files/`,
      ExitCode.usage,
    );
  }

  // A host no box is built for builds the common one, emulated.
  const architecture = options.architecture ?? vagrantArchitecture() ?? 'amd64';
  // A box that pulls its images needs every one for its architecture: say so now, not after an hour in images.sh.
  const unbuilt = options.skipDownloads ? [] : boxImages().filter((image) => !imageArchitectures(image).includes(architecture));
  if (unbuilt.length > 0) {
    throw new CliError(
      `cannot build an ${architecture} box: ${unbuilt.length} images have no ${architecture} build: ${unbuilt.join(', ')}; build --architecture amd64 (it runs on Apple Silicon under emulation only), or wait for a release with ${architecture} images`,
      ExitCode.usage,
    );
  }
  const mirrorProblem = options.registryMirror === undefined ? undefined : registryMirrorProblem(options.registryMirror);
  if (mirrorProblem) throw new CliError(`--registry-mirror ${options.registryMirror}: ${mirrorProblem}`, ExitCode.usage);
  if (architecture === 'arm64' && options.restrictNetwork) {
    throw new CliError('--restrict-network cannot build arm64: its seed comes over the build’s HTTP server', ExitCode.usage);
  }
  const baseVars = await baseImageVars(options, architecture);
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
    throw new CliError(`preflight failed: ${failed.map((c) => `${c.name}: ${c.fix ?? c.detail}`).join('; ')}`, ExitCode.preflight);
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
    throw new CliError(`${sshKey}.pub is missing: pass --ssh-key with a key whose .pub is beside it`, ExitCode.preflight);
  });
  if (!isSshPublicKey(sshPublicKey)) {
    throw new CliError(`${sshKey}.pub is not one OpenSSH public key line: pass --ssh-key with a key whose .pub is beside it`, ExitCode.usage);
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
    const step = async (name: string, args: string[]) => {
      const run = runPacker(args, templates, (line) => {
        const phase = phaseOf(line);
        if (phase && phase !== current) {
          current = phase;
          log(`phase: ${phase} (after ${Math.round((Date.now() - started) / 1000)}s)`);
        }
        log(`packer | ${line}`);
      });
      const onAbort = () => run.stop();
      signal?.addEventListener('abort', onAbort, { once: true });
      const { exitCode, tail } = await run.done.finally(() => signal?.removeEventListener('abort', onAbort));
      if (signal?.aborted) throw new CliError('interrupted: Packer stopped, partial output removed', ExitCode.interrupted);
      if (exitCode !== 0) {
        throw new CliError(`packer ${name} failed (exit ${exitCode}): ${tail.filter(Boolean).slice(-3).join(' | ')}`, ExitCode.failed);
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
    await step('build', ['build', '-color=false', `-var-file=${varFile}`, only, '.']);

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
