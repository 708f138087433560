/**
 * What the online end to ends (online.ts, rehearse.ts) ask of the host before they start, as pure functions: the
 * tools on the PATH, the VM sized to the host by bootstrap's own preflight, and a work folder on disk. Each problem
 * is said in one line, up front, so a run fails in seconds rather than after an hour's box build.
 */
import { spawnSync } from 'node:child_process';

/** A program a run needs: any one of `commands` will do; `install` says how to get it. */
export interface Tool {
  readonly commands: readonly string[];
  readonly install: string;
}

/** What the online e2e runs on the host: the box build, bootstrap's libvirt path, and kubectl with the kubeconfig. */
export const ONLINE_TOOLS: readonly Tool[] = [
  { commands: ['packer'], install: 'apt-get install packer' },
  { commands: ['qemu-system-x86_64'], install: 'apt-get install qemu-system-x86' },
  { commands: ['qemu-img'], install: 'apt-get install qemu-utils' },
  // Packer's cd_files makes the cloud-init seed's ISO with whichever of these it finds.
  { commands: ['xorriso', 'mkisofs'], install: 'apt-get install xorriso' },
  { commands: ['vagrant'], install: 'apt-get install vagrant' },
  { commands: ['virsh'], install: 'apt-get install libvirt-daemon-system' },
  // Its last step runs kubectl on the host with the kubeconfig bootstrap writes, as a user would.
  { commands: ['kubectl'], install: 'install kubectl (kubernetes.io/docs/tasks/tools)' },
];

/** The tools none of whose commands `has`. */
export function missingTools(tools: readonly Tool[], has: (command: string) => boolean): Tool[] {
  return tools.filter((tool) => !tool.commands.some(has));
}

/** One line for the missing tools: `missing kubectl (install …), xorriso or mkisofs (apt-get install xorriso)`. */
export function missingLine(missing: readonly Tool[]): string {
  return `missing ${missing.map((t) => `${t.commands.join(' or ')} (${t.install})`).join(', ')}`;
}

/** Whether `command` is on the PATH (an effect: the one place a run looks). */
export function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1" >/dev/null', 'sh', command]).status === 0;
}

/** A preflight check as bootstrap's `preflight` returns it. */
export interface SizeCheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly fix?: string;
}

/** Bootstrap's preflight for a VM of `cpus` and `memoryMiB` on this host (online.ts passes the real one). */
export type SizeCheck = (cpus: number, memoryMiB: number) => readonly SizeCheckResult[];

/** The checks of bootstrap's preflight that speak of the VM's size and the host's room for it. */
const SIZE_CHECKS = ['vm cpus', 'vm memory', 'host cpus', 'host memory'];
/** Memory is tried in steps of this many MiB below the box's default. */
const MEMORY_STEP_MIB = 256;

/**
 * The largest VM up to the box's default (`box`) that bootstrap's preflight (`check`) lets this host run, so that
 * `bootstrap up` gets `--cpus` and `--memory` that pass; or, when no VM that holds the platform fits, the line that
 * says which host it needs (bootstrap's own fix). Pure: the host is inside `check`.
 */
export function sizeVm(box: { readonly cpus: number; readonly memoryMiB: number }, check: SizeCheck): { cpus: number; memoryMiB: number } | { problem: string } {
  const passes = (name: string, cpus: number, memoryMiB: number) => check(cpus, memoryMiB).find((c) => c.name === name)?.ok === true;
  let cpus = box.cpus;
  while (cpus > 1 && !passes('host cpus', cpus, box.memoryMiB)) cpus--;
  let memoryMiB = box.memoryMiB;
  while (memoryMiB > MEMORY_STEP_MIB && !passes('host memory', cpus, memoryMiB)) memoryMiB -= MEMORY_STEP_MIB;
  const failed = check(cpus, memoryMiB).filter((c) => SIZE_CHECKS.includes(c.name) && !c.ok);
  if (failed.length === 0) return { cpus, memoryMiB };
  // What the user can act on: the host checks of the box's default VM name the host the platform needs.
  const atDefault = check(box.cpus, box.memoryMiB).filter((c) => SIZE_CHECKS.includes(c.name) && !c.ok);
  const said = (atDefault.length > 0 ? atDefault : failed).filter((c) => c.name.startsWith('host'));
  return { problem: (said.length > 0 ? said : failed).map((c) => `${c.name}: ${c.detail}; ${c.fix ?? ''}`.replace(/; $/, '')).join('; ') };
}

/** Linux's statfs type of a tmpfs (memory, not disk). */
export const TMPFS_MAGIC = 0x01021994;

/** The online e2e's folder: E2E_DIR, else one under /var/tmp, which is on disk (/tmp is a tmpfs on Debian 13, Fedora, Arch). */
export function onlineWorkDir(env: NodeJS.ProcessEnv): string {
  return env.E2E_DIR || '/var/tmp/airy-e2e';
}

/** What is wrong with `dir` as the work folder (in memory, or too small for `needBytes`), or undefined. */
export function workDirProblem(dir: string, fs: { readonly type: number; readonly freeBytes: number }, needBytes: number): string | undefined {
  const GiB = 2 ** 30;
  if (fs.type === TMPFS_MAGIC) return `${dir} is on a tmpfs (memory, not disk): set E2E_DIR to a folder on disk with ${Math.ceil(needBytes / GiB)} GiB free`;
  if (fs.freeBytes < needBytes) return `${dir} has ${(fs.freeBytes / GiB).toFixed(1)} GiB free, the run needs ${Math.ceil(needBytes / GiB)} GiB: free some, or set E2E_DIR to a larger disk`;
  return undefined;
}
