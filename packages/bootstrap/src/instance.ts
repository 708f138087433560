/**
 * The instance model: what an instance folder remembers of how its VM was made (`instance.json`), read and checked.
 * Light on purpose (no Vagrant, zx or manifests), so every command can read it.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { isBoxName, isVersion, PROVIDERS, type Provider } from '@airy/box-catalog';
import { AiryError, field, stateFileProblem } from '@airy/cli-kit';
import * as v from 'valibot';
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

/** The instance state file exists but is not one: the message names the file, the key and how to recover. */
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

/** Each key of `T`, and its check: a key of the type without a check, or one too many, does not compile. */
type Entries<T> = { readonly [K in keyof Required<T>]: v.GenericSchema<unknown, T[K]> };
const PATH_MAX = 4096;

/**
 * The check of `instance.json`, one entry per key of {@link InstanceState}. Every value that later builds a path
 * (`destroy --prune` deletes the cached box by its checksum), a Vagrantfile or a command is checked here.
 */
const INSTANCE_ENTRIES: Entries<InstanceState> = {
  catalog: field.text(PATH_MAX),
  boxName: v.pipe(field.text(128), v.check(isBoxName, (issue) => `must be a box name such as airy/core, got ${JSON.stringify(issue.input)}`)),
  version: v.pipe(field.text(64), v.check(isVersion, (issue) => `must be a version such as 1.2.3, got ${JSON.stringify(issue.input)}`)),
  provider: field.oneOf(PROVIDERS),
  sha256: field.matching(/^[0-9a-f]{64}$/, 'a SHA-256 of 64 hex digits', 64),
  cpus: field.whole(1, 1024),
  memoryMiB: field.whole(1, 16 * 2 ** 20),
  libvirtDriver: v.optional(field.oneOf(['kvm', 'qemu'] as const)),
  // Older state files have no privateNetwork: those VMs were made with one.
  privateNetwork: v.optional(field.flag, true),
  cacheDir: v.optional(v.pipe(field.text(PATH_MAX), v.check(isAbsolute, 'must be an absolute path'))),
  trustedRoot: v.optional(field.text(MAX_ROOT_BYTES)),
  allowUnsigned: v.optional(field.flag),
};
const INSTANCE_FILE = {
  schema: v.pipe(
    field.object(INSTANCE_ENTRIES),
    // One or the other: a state that claims both was not written by bootstrap.
    v.forward(
      v.check((s) => !(s.trustedRoot !== undefined && s.allowUnsigned === true), 'must not be given with allowUnsigned: true'),
      ['trustedRoot'],
    ),
  ) as v.GenericSchema<unknown, InstanceState>,
  maxBytes: 64 * 1024 + MAX_ROOT_BYTES,
};

/** Checks an instance state file's text; a damaged one throws {@link DamagedInstanceError} naming the key. */
export function parseInstance(text: string, path: string): InstanceState {
  const checked = stateFileProblem(text, INSTANCE_FILE);
  if ('problem' in checked) throw new DamagedInstanceError(path, checked.problem);
  return checked.value;
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

