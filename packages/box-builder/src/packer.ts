/**
 * Effects of a box build, through zx: looking at the host, staging Packer's inputs, and running
 * `packer init|validate|build` with its output streamed under a prefix. Called only from build.ts.
 */
import { createHash } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { access, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, statfs, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { type Architecture, vagrantArchitecture } from '@airy/box-catalog';
import { AiryError, lineSplitter, lineTail } from '@airy/cli-kit';
import { boxFacts } from '@airy/manifests';
import { $ } from 'zx';
import { ARM64_FIRMWARE, qemuFor } from './architecture.js';
import { hashFile } from './hash.js';
import type { HostFacts } from './preflight.js';
import { sha256From } from './virtualbox.js';

/**
 * The Packer templates and provisioning scripts that ship with this package (`images/` beside `lib/`; in the
 * workspace, `compile` copies the repository's `images/` there).
 */
export const IMAGES_DIR = fileURLToPath(new URL('../images/', import.meta.url));

/** Whether `dir` holds what a build needs (`airy-core/*.pkr.hcl`, `scripts/`, `files/`); else what is missing. */
export async function missingImageParts(dir: string): Promise<string[]> {
  const missing: string[] = [];
  const templates = await readdir(join(dir, 'airy-core')).catch(() => [] as string[]);
  if (!templates.some((f) => f.endsWith('.pkr.hcl'))) missing.push('airy-core/*.pkr.hcl');
  for (const sub of ['scripts', 'files']) {
    if (!(await access(join(dir, sub)).then(() => true, () => false))) missing.push(`${sub}/`);
  }
  return missing;
}

/** Where Vagrant installs keep their insecure key pair. */
const VAGRANT_KEY_GLOBS = ['/usr/share/rubygems-integration/all/gems', '/opt/vagrant/embedded/gems/gems', '/opt/vagrant/embedded/gems/2.3.4/gems'];

async function firstLine(command: string[]): Promise<string | undefined> {
  const out = await $({ quiet: true, nothrow: true })`${command}`;
  return out.exitCode === 0 ? out.stdout.split('\n')[0]?.trim() : undefined;
}

/** Finds Vagrant's insecure private key. */
export async function findVagrantKey(): Promise<string | undefined> {
  for (const base of VAGRANT_KEY_GLOBS) {
    const entries = await readdir(base).catch(() => [] as string[]);
    for (const entry of entries.filter((e) => /^vagrant-\d/.test(e)).sort().reverse()) {
      const key = join(base, entry, 'keys', 'vagrant');
      if (await access(key, constants.R_OK).then(() => true, () => false)) return key;
    }
  }
  return undefined;
}

/** Looks at the machine: tool versions, KVM, free disk at `outDir`, the SSH key. */
export async function gatherHostFacts(outDir: string, sshKey: string | undefined, architecture: Architecture): Promise<HostFacts> {
  const packer = await firstLine(['packer', 'version']);
  const qemu = await firstLine([qemuFor(architecture).binary, '--version']);
  let firmware: string | undefined;
  for (const candidate of architecture === 'arm64' ? ARM64_FIRMWARE : []) {
    if (await access(candidate, constants.R_OK).then(() => true, () => false)) {
      firmware = candidate;
      break;
    }
  }
  const qemuImg = (await firstLine(['qemu-img', '--version'])) !== undefined;
  const vboxmanage = await firstLine(['VBoxManage', '--version']);
  const kvmUsable = await access('/dev/kvm', constants.R_OK | constants.W_OK).then(() => true, () => false);
  await mkdir(outDir, { recursive: true });
  const fs = await statfs(outDir);
  return {
    packerVersion: packer ? /v?(\d+\.\d+\.\d+)/.exec(packer)?.[1] : undefined,
    qemu,
    qemuImg,
    ...(firmware ? { firmware } : {}),
    hostArchitecture: vagrantArchitecture(),
    vboxmanage,
    kvmUsable,
    freeBytes: fs.bavail * fs.bsize,
    sshKey: sshKey ?? (await findVagrantKey()),
  };
}

/** A folder Packer runs in: links to the templates, plus the plugin requirements for Packer 1.7+. */
export async function stageTemplates(imagesDir: string, withPlugins: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'airy-packer-'));
  const templates = join(imagesDir, 'airy-core');
  for (const file of await readdir(templates)) {
    if (file.endsWith('.pkr.hcl')) await symlink(join(templates, file), join(dir, file));
  }
  if (withPlugins) await symlink(join(imagesDir, 'plugins', 'plugins.pkr.hcl'), join(dir, 'plugins.pkr.hcl'));
  return dir;
}

/**
 * One OpenSSH public key line: type, base64 key, an optional printable comment. The key goes into cloud-init's
 * YAML, so nothing else may get through.
 */
export function isSshPublicKey(text: string): boolean {
  return /^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,2}( [\x20-\x7e]{0,200})?$/.test(text.trim());
}

/** The payload uploaded into the VM: rendered manifests, image list, content manifest, scripts, cloud-init seed. */
export async function stagePayload(files: {
  imagesDir: string;
  /** The box's facts for the provisioning scripts, as an env file (`boxFactsEnv`). */
  factsEnv: string;
  deployments: Map<string, string>;
  images: readonly string[];
  contentManifest: string;
  sshPublicKey: string;
}): Promise<string> {
  const key = files.sshPublicKey.trim();
  if (!isSshPublicKey(key)) throw new Error('the SSH public key is not one OpenSSH public key line (type, base64 key, optional comment)');
  const dir = await mkdtemp(join(tmpdir(), 'airy-payload-'));
  await mkdir(join(dir, 'deployments'));
  for (const [name, text] of files.deployments) await writeFile(join(dir, 'deployments', name), text);
  await writeFile(join(dir, 'images.txt'), `${files.images.join('\n')}\n`);
  await writeFile(join(dir, 'box.json'), files.contentManifest);
  await writeFile(join(dir, 'airy.env'), files.factsEnv);
  await cp(join(files.imagesDir, 'scripts'), join(dir, 'scripts'), { recursive: true });
  await cp(join(files.imagesDir, 'files'), join(dir, 'files'), { recursive: true });
  await mkdir(join(dir, 'cidata'));
  await writeFile(join(dir, 'cidata', 'meta-data'), `instance-id: airy-core-build\nlocal-hostname: ${boxFacts().vmHostname}\n`);
  await writeFile(
    join(dir, 'cidata', 'user-data'),
    [
      '#cloud-config',
      'users:',
      '  - name: vagrant',
      '    sudo: ALL=(ALL) NOPASSWD:ALL',
      '    shell: /bin/bash',
      '    ssh_authorized_keys:',
      `      - ${JSON.stringify(key)}`,
      '',
    ].join('\n'),
  );
  return dir;
}

/**
 * Packer variables as a `.pkrvars.json` file. JSON, not HCL: in an HCL string `${…}` and `%{…}` are templates that
 * Packer would evaluate, while a JSON variable file's values are taken literally.
 */
export function varFile(vars: Record<string, string | number | boolean>): string {
  return `${JSON.stringify(vars, null, 2)}\n`;
}

/** A running Packer command whose lines are handed to `onLine`. */
export interface PackerRun {
  readonly done: Promise<{ exitCode: number; tail: string[] }>;
  /** Stops Packer (SIGINT first, so it cleans up its VM). */
  stop(): void;
}

/**
 * Runs `packer ARGS` in `cwd`, streaming each output line to `onLine`; keeps the last lines for errors. `env` adds
 * to Packer's environment (a sensitive variable as `PKR_VAR_name`, kept off the command line and out of files).
 */
export function runPacker(args: string[], cwd: string, onLine: (line: string) => void, env: Record<string, string> = {}): PackerRun {
  const process = $({ cwd, quiet: true, nothrow: true, env: { ...globalThis.process.env, ...env, CHECKPOINT_DISABLE: '1', PACKER_NO_COLOR: '1' } })`packer ${args}`;
  const tail = lineTail(20, onLine);
  // Packer's errors go to stderr: stream them too, so the reason of a failure is never lost.
  const stderr = lineSplitter(tail.push);
  process.stderr.on('data', stderr.write);
  const done = (async () => {
    for await (const line of process) tail.push(line);
    stderr.end();
    const out = await process;
    return { exitCode: out.exitCode ?? 1, tail: tail.lines };
  })();
  return {
    done,
    stop() {
      void process.kill('SIGINT');
    },
  };
}

/** Writes the variable file into `dir`. */
export async function writeVarFile(dir: string, vars: Record<string, string | number | boolean>): Promise<string> {
  const path = join(dir, 'airy.pkrvars.json');
  await writeFile(path, varFile(vars));
  return path;
}

/** Removes a staged folder. */
export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** The text at a checksum list's location: an http(s) URL or a local path (Packer's `file:` forms). */
async function readSums(location: string, signal?: AbortSignal): Promise<string> {
  if (!/^https?:\/\//.test(location)) return readFile(location.replace(/^file:\/\//, ''), 'utf8');
  const res = await fetch(location, { signal });
  if (!res.ok) throw new AiryError('BUILD_BASE_IMAGE_UNREACHABLE', `cannot read the checksums at ${location} (HTTP ${res.status}): check the network or pass --base-image-checksum sha256:HEX`);
  return res.text();
}

/**
 * The base OVA as a local file, and its SHA-256: `VBoxManage import --dry-run` reads only local files, and the
 * build needs its listing before Packer imports it. A remote OVA is downloaded once into `cacheDir`, checked against
 * its SHA-256 (`sha256:HEX`, or `file:URL` of a SHA256SUMS list), and kept for later builds.
 */
export async function localOva(url: string, checksum: string, cacheDir: string, log: (line: string) => void, signal?: AbortSignal): Promise<{ path: string; sha256: string }> {
  const name = basename(new URL(url).pathname);
  const expected = checksum.startsWith('sha256:')
    ? checksum.slice('sha256:'.length).toLowerCase()
    : checksum.startsWith('file:')
      ? sha256From(await readSums(checksum.slice('file:'.length), signal), name)
      : undefined;
  if (!expected || !/^[0-9a-f]{64}$/.test(expected)) {
    throw new AiryError('BUILD_BASE_IMAGE_INVALID', `no SHA-256 for ${name} in ${checksum}: pass --base-image-checksum sha256:HEX`);
  }
  if (url.startsWith('file://')) return { path: fileURLToPath(url), sha256: expected };
  const path = join(cacheDir, name);
  if ((await hashFile(path).catch(() => undefined))?.sha256 === expected) return { path, sha256: expected };
  await mkdir(cacheDir, { recursive: true });
  log(`base image: downloading ${url} (the OVA is read before Packer imports it)`);
  const res = await fetch(url, { signal });
  if (!res.ok || !res.body) throw new AiryError('BUILD_BASE_IMAGE_UNREACHABLE', `cannot download ${url} (HTTP ${res.status}): check the network or pass --base-image`);
  const hash = createHash('sha256');
  const part = `${path}.part`;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), hashing, createWriteStream(part, { mode: 0o644 }), { signal });
    const got = hash.digest('hex');
    if (got !== expected) throw new AiryError('BUILD_BASE_IMAGE_CHECKSUM_MISMATCH', `${url}: its SHA-256 is ${got}, not the ${expected} published for it: download again`);
    await rename(part, path);
  } finally {
    await rm(part, { force: true });
  }
  return { path, sha256: expected };
}

/** `VBoxManage import OVA --dry-run`: the listing of what an import would make (read by `ovaDiskUnit`). */
export async function ovaDryRun(ova: string): Promise<string> {
  const out = await $({ quiet: true, nothrow: true })`VBoxManage import ${ova} --dry-run`;
  if (out.exitCode !== 0) {
    const why = out.stderr.trim().split('\n').at(-1) ?? '';
    throw new AiryError('BUILD_BASE_IMAGE_INVALID', `VBoxManage cannot read the base OVA ${ova}: ${why}`);
  }
  return out.stdout;
}
