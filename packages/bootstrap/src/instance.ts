/**
 * The instance model: what an instance folder remembers of how its VM was made (`instance.json`), read and checked.
 * Light on purpose (no Vagrant, zx or manifests), so every command can read it.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { isBoxName, isVersion, PROVIDERS, type Provider } from '@airy/box-catalog';
import { AiryError } from '@airy/cli-kit';
import { instanceFiles } from './paths.js';
import { MAX_ROOT_BYTES } from './trust.js';

/**
 * How the VM is made: one shape for the command's options, the state file, the Vagrantfile, and start and upgrade
 * (which make the VM again as it was made).
 */
export interface MachineSpec {
  readonly provider: Provider;
  readonly cpus: number;
  readonly memoryMiB: number;
  /** libvirt: `kvm`, or `qemu` where KVM is unusable. @default "kvm" */
  readonly libvirtDriver?: 'kvm' | 'qemu';
  /** A private network with a fixed address; without it the VM is reached by forwarded ports only. */
  readonly privateNetwork: boolean;
}

/** What the instance folder remembers: the box it runs and how its VM was made. */
export interface InstanceState extends MachineSpec {
  readonly catalog: string;
  readonly boxName: string;
  readonly version: string;
  readonly sha256: string;
  /** The verified download cache the box came from. */
  readonly cacheDir?: string;
  /**
   * The root.json (its exact text) the catalog was verified against: start and upgrade verify against it again,
   * without the flag, and refuse a catalog of another root.
   */
  readonly trustedRoot?: string;
  /** Made with --allow-unsigned: later runs read the catalog unverified too, and say so every time. */
  readonly allowUnsigned?: boolean;
}

/** The VM's spec of an instance. */
export function machineOf(state: InstanceState): MachineSpec {
  const { provider, cpus, memoryMiB, libvirtDriver, privateNetwork } = state;
  return { provider, cpus, memoryMiB, privateNetwork, ...(libvirtDriver ? { libvirtDriver } : {}) };
}

/** The options that recreate an instance as it was made: for start and upgrade. */
export function instanceOptions(state: InstanceState) {
  return {
    catalog: state.catalog,
    version: state.version,
    ...machineOf(state),
    ...(state.cacheDir ? { cacheDir: state.cacheDir } : {}),
  };
}

/** The instance state file exists but is not one: the message names the file and how to recover. */
export class DamagedInstanceError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(
      `${path} is damaged (${reason}): run airy-bootstrap again with the same --dir to make the instance anew (add --force if the VM is gone), or remove the file`,
    );
    this.name = 'DamagedInstanceError';
  }
}

/**
 * Checks an instance state file's text. Every value that later builds a path (`destroy --prune` deletes the cached
 * box by its checksum), a Vagrantfile or a command is checked here.
 */
export function parseInstance(text: string, path: string): InstanceState {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new DamagedInstanceError(path, 'not JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new DamagedInstanceError(path, 'not a JSON object');
  const s = data as Record<string, unknown>;
  const bad = (field: string) => {
    throw new DamagedInstanceError(path, `bad ${field}`);
  };
  const positive = (n: unknown) => Number.isSafeInteger(n) && (n as number) > 0;
  if (typeof s.catalog !== 'string' || s.catalog.length === 0) bad('catalog');
  if (typeof s.boxName !== 'string' || !isBoxName(s.boxName)) bad('boxName');
  if (typeof s.version !== 'string' || !isVersion(s.version)) bad('version');
  if (!PROVIDERS.includes(s.provider as Provider)) bad('provider');
  if (typeof s.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(s.sha256)) bad('sha256');
  if (!positive(s.cpus) || !positive(s.memoryMiB)) bad('cpus or memoryMiB');
  if (s.libvirtDriver !== undefined && s.libvirtDriver !== 'kvm' && s.libvirtDriver !== 'qemu') bad('libvirtDriver');
  if (s.privateNetwork !== undefined && typeof s.privateNetwork !== 'boolean') bad('privateNetwork');
  if (s.cacheDir !== undefined && (typeof s.cacheDir !== 'string' || !isAbsolute(s.cacheDir))) bad('cacheDir');
  if (s.trustedRoot !== undefined && (typeof s.trustedRoot !== 'string' || s.trustedRoot.length === 0 || s.trustedRoot.length > MAX_ROOT_BYTES)) bad('trustedRoot');
  if (s.allowUnsigned !== undefined && typeof s.allowUnsigned !== 'boolean') bad('allowUnsigned');
  // One or the other: a state that claims both was not written by bootstrap.
  if (s.trustedRoot !== undefined && s.allowUnsigned === true) bad('trustedRoot and allowUnsigned');
  // Older state files have no privateNetwork: those VMs were made with one.
  return { ...(s as unknown as InstanceState), privateNetwork: s.privateNetwork !== false };
}

/** Reads the instance state, if the folder has one; a damaged one throws {@link DamagedInstanceError}. */
export async function readInstance(dir: string): Promise<InstanceState | undefined> {
  const path = instanceFiles(dir).state;
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new DamagedInstanceError(path, error.code ?? error.message);
  });
  return text === undefined ? undefined : parseInstance(text, path);
}

/** The instance state of `dir`; none there is INSTANCE_NOT_FOUND, which says how to make one. */
export async function requireInstance(dir: string): Promise<InstanceState> {
  const state = await readInstance(dir);
  if (!state) throw new AiryError('INSTANCE_NOT_FOUND', `no Airy Core instance in ${dir}: run airy-bootstrap first, or pass --dir`);
  return state;
}

