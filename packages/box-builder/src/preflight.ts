/**
 * Preflight of a box build: packer in a supported version, the provider's tools, acceleration, free disk and
 * the SSH key. Pure: the host is described by {@link HostFacts} (gathered in packer.ts), so tests can inject it.
 */
import type { Architecture, Provider } from '@airy/box-catalog';
import { qemuFor } from './architecture.js';

/** What the build needs to know about the machine. */
export interface HostFacts {
  /** `packer version`, e.g. "1.6.6"; undefined when packer is missing. */
  readonly packerVersion?: string;
  /** The target architecture's `qemu-system-* --version`, first line; undefined when missing. */
  readonly qemu?: string;
  readonly qemuImg?: boolean;
  /** For an arm64 build: the UEFI firmware found, if any. */
  readonly firmware?: string;
  /** The machine's own architecture: KVM runs only guests of it (none of ours on a host no box is built for). */
  readonly hostArchitecture: Architecture | undefined;
  /** `VBoxManage --version`; undefined when missing. */
  readonly vboxmanage?: string;
  /** /dev/kvm exists and we may open it. */
  readonly kvmUsable: boolean;
  /** Free bytes where the box is written. */
  readonly freeBytes: number;
  /** Vagrant's insecure private key, if found. */
  readonly sshKey?: string;
}

/** What is being built. */
export interface BuildPlanInput {
  readonly provider: Provider;
  /** `auto` picks kvm when usable. */
  readonly accelerator: 'auto' | 'kvm' | 'tcg';
  /** The box's architecture. */
  readonly architecture: Architecture;
  readonly requiredFreeBytes: number;
}

/** One check's outcome; `fix` says how to make it pass. */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly fix?: string;
}

/** The oldest Packer we support: Debian 12's, with builders bundled. */
export const MIN_PACKER = [1, 6, 6] as const;

/** Packer 1.7 moved builders into plugins installed by `packer init`. */
export function packerNeedsPlugins(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 1 || (major === 1 && minor >= 7);
}

function atLeast(version: string, min: readonly number[]): boolean {
  const parts = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < min.length; i++) {
    const a = parts[i] ?? 0;
    const b = min[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

const GiB = 2 ** 30;

/**
 * What the build VM's disk holds once provisioned, estimated (images/README.md, "The build's disk", is where the
 * measured figure goes): online, the Ubuntu cloud image's OS with the base packages, Kubernetes' binaries and every
 * image of the release in containerd (~9 GB, N7's reading); offline (`--skip-downloads`), the base image and the
 * rendered platform.
 */
export const BUILD_DISK_CONTENT = { online: 10 * GiB, offline: 1 * GiB } as const;

/**
 * The most a build holds at `--out` at once: the qcow2 as provisioning leaves it (its discards are holes, so about
 * the content) beside its compacted copy (Packer's `qemu-img convert`), and later the compacted disk beside the
 * uncompressed box tar; plus 1 GiB for what provisioning writes and deletes again. No zero-fill: that grew the
 * qcow2 to the disk's whole virtual size (40 GiB, a ~50 GB peak) before compaction.
 */
export function buildPeakBytes(skipDownloads: boolean): number {
  return 2 * BUILD_DISK_CONTENT[skipDownloads ? 'offline' : 'online'] + GiB;
}

/** Every check for the build; the build starts only when all pass. */
export function preflight(facts: HostFacts, input: BuildPlanInput): Check[] {
  const checks: Check[] = [];
  const packer = facts.packerVersion;
  checks.push(
    !packer
      ? { name: 'packer', ok: false, detail: 'packer is not installed', fix: 'install it: apt-get install packer (Debian) or see developer.hashicorp.com/packer' }
      : atLeast(packer, MIN_PACKER)
        ? { name: 'packer', ok: true, detail: `packer ${packer}${packerNeedsPlugins(packer) ? ' (plugins via packer init)' : ' (builders bundled)'}` }
        : { name: 'packer', ok: false, detail: `packer ${packer} is too old`, fix: `install packer ${MIN_PACKER.join('.')} or newer` },
  );
  if (input.provider === 'libvirt') {
    const qemu = qemuFor(input.architecture);
    checks.push(
      facts.qemu && facts.qemuImg
        ? { name: 'qemu', ok: true, detail: facts.qemu }
        : { name: 'qemu', ok: false, detail: `${qemu.binary} or qemu-img is missing`, fix: `apt-get install ${qemu.package} qemu-utils` },
    );
    if (input.architecture === 'arm64') {
      checks.push(
        facts.firmware
          ? { name: 'firmware', ok: true, detail: `UEFI ${facts.firmware}` }
          : { name: 'firmware', ok: false, detail: 'no UEFI firmware for arm64 guests', fix: 'apt-get install qemu-efi-aarch64' },
      );
    }
    const foreign = facts.hostArchitecture !== input.architecture;
    if (foreign && input.accelerator === 'kvm') {
      checks.push({
        name: 'acceleration',
        ok: false,
        detail: `KVM runs only ${facts.hostArchitecture ?? 'this machine\'s own'} guests, this box is ${input.architecture}`,
        fix: 'pass --accelerator tcg (emulated, slow) or build on a machine of that architecture',
      });
    } else if (foreign) {
      checks.push({ name: 'acceleration', ok: true, detail: `TCG emulation of ${input.architecture} (slow: KVM runs only ${facts.hostArchitecture ?? 'this machine\'s own'} guests)` });
    } else if (input.accelerator === 'kvm' || input.accelerator === 'auto') {
      checks.push(
        facts.kvmUsable
          ? { name: 'acceleration', ok: true, detail: 'KVM is usable' }
          : {
              name: 'acceleration',
              ok: false,
              detail: '/dev/kvm is missing or not accessible',
              fix: 'enable virtualisation (and add yourself to the kvm group), or pass --accelerator tcg for a slow software build',
            },
      );
    } else {
      checks.push({ name: 'acceleration', ok: true, detail: 'TCG software emulation (slow, as asked)' });
    }
  } else {
    checks.push(
      facts.vboxmanage
        ? { name: 'virtualbox', ok: true, detail: `VBoxManage ${facts.vboxmanage}` }
        : { name: 'virtualbox', ok: false, detail: 'VBoxManage is not installed', fix: 'install VirtualBox from virtualbox.org, or build --provider libvirt' },
    );
  }
  checks.push(
    facts.freeBytes >= input.requiredFreeBytes
      ? { name: 'disk', ok: true, detail: `${(facts.freeBytes / GiB).toFixed(1)} GiB free, ${(input.requiredFreeBytes / GiB).toFixed(1)} GiB needed at the build's peak` }
      : {
          name: 'disk',
          ok: false,
          detail: `${(facts.freeBytes / GiB).toFixed(1)} GiB free, ${(input.requiredFreeBytes / GiB).toFixed(1)} GiB needed at the build's peak`,
          fix: 'free some disk, or pass --out on a larger disk',
        },
  );
  checks.push(
    facts.sshKey
      ? { name: 'ssh key', ok: true, detail: facts.sshKey }
      : { name: 'ssh key', ok: false, detail: "Vagrant's insecure key was not found", fix: 'install vagrant, or pass --ssh-key FILE' },
  );
  return checks;
}

/** The accelerator to use: kvm when usable under `auto`. */
export function chooseAccelerator(facts: HostFacts, asked: 'auto' | 'kvm' | 'tcg', architecture: Architecture | undefined = facts.hostArchitecture): 'kvm' | 'tcg' {
  if (asked !== 'auto') return asked;
  return facts.kvmUsable && architecture !== undefined && architecture === facts.hostArchitecture ? 'kvm' : 'tcg';
}

/** The build phase a line of Packer's output starts, if any. */
export function phaseOf(line: string): 'boot' | 'provision' | 'export' | 'package' | undefined {
  if (/Running post-processor|Creating Vagrant box|Compressing/i.test(line)) return 'package';
  if (/Gracefully halting|Converting hard drive|Exporting|Deregistering|Compacting/i.test(line)) return 'export';
  if (/Provisioning with|Uploading .* =>/i.test(line)) return 'provision';
  if (/Starting VM|Starting the virtual machine|Waiting for SSH|Booting/i.test(line)) return 'boot';
  return undefined;
}
