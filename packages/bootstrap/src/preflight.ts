/**
 * Preflight of the local platform: OS and architecture, CPUs and memory sized from the platform's own resources,
 * free disk for the box, a usable hypervisor, known conflicts. Pure: the machine is a {@link HostView}, gathered in
 * host.ts or injected by tests. Reason codes follow minikube's style, so a report can be searched for.
 */
import { type Architecture, type Provider, vagrantArchitecture } from '@airy/box-catalog';
import { REASONS, type ReasonId } from '@airy/cli-kit';
import { BOX_FACTS } from './box-facts.js';

/** What preflight needs to know about the machine. */
export interface HostView {
  readonly platform: NodeJS.Platform;
  /** Node's `process.arch`: x64, arm64, … */
  readonly arch: string;
  readonly cpus: number;
  readonly memoryBytes: number;
  /** Free bytes where the box is downloaded and unpacked. */
  readonly freeBytes: number;
  readonly vagrantVersion?: string;
  readonly vboxmanageVersion?: string;
  readonly virshVersion?: string;
  /** /dev/kvm exists and is usable. */
  readonly kvm: boolean;
  /** Installed Vagrant plugins. */
  readonly vagrantPlugins: readonly string[];
  /** Windows with Hyper-V on, which keeps VirtualBox from using VT-x. */
  readonly hyperV: boolean;
}

/** What the user asked for. */
export interface PreflightInput {
  readonly provider: Provider;
  readonly cpus: number;
  readonly memoryMiB: number;
  /** The box's size in bytes, when known (from the catalog). */
  readonly boxSize?: number;
  /** The box's architecture, when known. */
  readonly boxArchitecture?: Architecture;
  /** What the platform requests (the box's own, {@link BOX_FACTS}, unless a test says otherwise). */
  readonly resources?: { readonly requests: { readonly cpuMillicores: number; readonly memoryBytes: number } };
}

/** A fix that is the same whatever the host: the registry's advice for its reason. */
const adviceOf = (id: ReasonId): string => REASONS.find((r) => r.id === id)?.advice ?? id;

/** One check's outcome. `code` names a failure by its reason in cli-kit's registry, e.g. RSRC_INSUFFICIENT_CORES. */
export interface PreflightCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly code?: ReasonId;
  readonly fix?: string;
  /** What fails here bootstrap can install (the provider), after asking: not a reason to stop before trying. */
  readonly installable?: boolean;
}

/** The provider to use when none is given: VirtualBox where it is installed (the seed's), libvirt on Linux. */
export function defaultProvider(host: HostView): Provider {
  if (host.vboxmanageVersion) return 'virtualbox';
  return host.platform === 'linux' ? 'libvirt' : 'virtualbox';
}

const MiB = 2 ** 20;
/** The box needs room for the download and its unpacked copy in Vagrant. */
export const DISK_FACTOR = 2.5;
/** What the host itself keeps beside the VM. */
const HOST_RESERVE = { cpus: 1, memoryMiB: 2048 };

/** Every check; the run stops unless all pass (or `--force`). */
export function preflight(host: HostView, input: PreflightInput): PreflightCheck[] {
  const checks: PreflightCheck[] = [];
  const add = (c: PreflightCheck) => checks.push(c);

  add(
    ['linux', 'darwin', 'win32'].includes(host.platform)
      ? { name: 'os', ok: true, detail: host.platform }
      : { name: 'os', ok: false, code: 'HOST_UNSUPPORTED_OS', detail: `${host.platform} is not supported`, fix: adviceOf('HOST_UNSUPPORTED_OS') },
  );
  const arch = vagrantArchitecture(host.arch);
  add(
    !arch
      ? { name: 'architecture', ok: false, code: 'HOST_UNSUPPORTED_ARCH', detail: `${host.arch} is not supported`, fix: adviceOf('HOST_UNSUPPORTED_ARCH') }
      : input.boxArchitecture && input.boxArchitecture !== arch
        ? {
            name: 'architecture',
            ok: false,
            code: 'BOX_ARCH_MISMATCH',
            detail: `the box is ${input.boxArchitecture}, this machine is ${arch}`,
            fix: `pick a version published for ${arch} (airy-box catalog list), or use an ${input.boxArchitecture} machine`,
          }
        : { name: 'architecture', ok: true, detail: arch },
  );

  // The node (the VM less what the kubelet keeps for the OS) must hold the platform's requests plus what Kubernetes
  // and Istio request; the host must hold the VM plus itself.
  const resources = input.resources ?? BOX_FACTS.resources;
  const { reserved, system } = BOX_FACTS.vm;
  // One budget, said the way `airy-manifests resources` says it: what pods request, plus what the kubelet keeps.
  const requestedMilli = resources.requests.cpuMillicores + system.cpuMillicores;
  const needCpus = Math.ceil((requestedMilli + reserved.cpuMillicores) / 1000);
  const requestedMiB = Math.ceil((resources.requests.memoryBytes + system.memoryBytes) / MiB);
  const needMiB = Math.ceil(requestedMiB + reserved.memoryBytes / MiB);
  const cpuBudget = `the pods request ${requestedMilli}m and the OS keeps ${reserved.cpuMillicores}m: ${needCpus} CPUs`;
  const memoryBudget = `the pods request ${requestedMiB} MiB and the OS keeps ${Math.ceil(reserved.memoryBytes / MiB)} MiB: ${needMiB} MiB`;
  add(
    input.cpus < needCpus
      ? { name: 'vm cpus', ok: false, code: 'RSRC_INSUFFICIENT_VM_CPUS', detail: `--cpus ${input.cpus} is too few (${cpuBudget})`, fix: `pass --cpus ${needCpus} or more` }
      : { name: 'vm cpus', ok: true, detail: `${input.cpus} (${cpuBudget})` },
  );
  add(
    input.memoryMiB < needMiB
      ? { name: 'vm memory', ok: false, code: 'RSRC_INSUFFICIENT_VM_MEMORY', detail: `--memory ${input.memoryMiB} is too little (${memoryBudget})`, fix: `pass --memory ${needMiB} or more` }
      : { name: 'vm memory', ok: true, detail: `${input.memoryMiB} MiB (${memoryBudget})` },
  );
  // Advice a user can follow: a smaller VM only when one that still holds the platform fits on this host.
  const spareCpus = host.cpus - HOST_RESERVE.cpus;
  add(
    host.cpus < input.cpus + HOST_RESERVE.cpus
      ? {
          name: 'host cpus',
          ok: false,
          code: 'RSRC_INSUFFICIENT_CORES',
          detail: `${host.cpus} CPUs, the VM takes ${input.cpus} and the host keeps ${HOST_RESERVE.cpus}`,
          fix:
            spareCpus >= needCpus
              ? `pass --cpus ${spareCpus === needCpus ? needCpus : `${needCpus} to ${spareCpus}`}`
              : `this machine is too small: the platform needs a host of ${needCpus + HOST_RESERVE.cpus} CPUs or more (a VM of ${needCpus} and ${HOST_RESERVE.cpus} for the host)`,
        }
      : { name: 'host cpus', ok: true, detail: `${host.cpus}` },
  );
  const hostMiB = Math.floor(host.memoryBytes / MiB);
  const spareMiB = hostMiB - HOST_RESERVE.memoryMiB;
  add(
    hostMiB < input.memoryMiB + HOST_RESERVE.memoryMiB
      ? {
          name: 'host memory',
          ok: false,
          code: 'RSRC_INSUFFICIENT_MEMORY',
          detail: `${hostMiB} MiB, the VM takes ${input.memoryMiB} MiB and the host keeps ${HOST_RESERVE.memoryMiB} MiB`,
          fix:
            spareMiB >= needMiB
              ? `close other programs, or pass --memory ${needMiB} to ${spareMiB}`
              : `this machine is too small: the platform needs a host of ${needMiB + HOST_RESERVE.memoryMiB} MiB or more (a VM of ${needMiB} MiB and ${HOST_RESERVE.memoryMiB} MiB for the host)`,
        }
      : { name: 'host memory', ok: true, detail: `${hostMiB} MiB` },
  );
  if (input.boxSize !== undefined) {
    const need = Math.ceil(input.boxSize * DISK_FACTOR);
    add(
      host.freeBytes < need
        ? { name: 'disk', ok: false, code: 'RSRC_INSUFFICIENT_STORAGE', detail: `${Math.floor(host.freeBytes / MiB)} MiB free, ${Math.ceil(need / MiB)} MiB needed (2.5× the box)`, fix: adviceOf('RSRC_INSUFFICIENT_STORAGE') }
        : { name: 'disk', ok: true, detail: `${Math.floor(host.freeBytes / MiB)} MiB free` },
    );
  }

  if (input.provider === 'virtualbox') {
    add(
      host.vboxmanageVersion
        ? { name: 'hypervisor', ok: true, detail: `VirtualBox ${host.vboxmanageVersion}` }
        : {
            name: 'hypervisor',
            ok: false,
            code: 'PROVIDER_VIRTUALBOX_NOT_FOUND',
            detail: 'VBoxManage is not installed',
            fix: 'install VirtualBox from virtualbox.org, or pass --provider libvirt on Linux',
            installable: host.platform === 'darwin' || host.platform === 'win32',
          },
    );
    if (host.platform === 'win32' && host.hyperV) {
      add({ name: 'conflicts', ok: false, code: 'HOST_HYPERV_CONFLICT', detail: 'Hyper-V is on and blocks VirtualBox', fix: adviceOf('HOST_HYPERV_CONFLICT') });
    }
  } else {
    // Without Vagrant its plugins cannot be listed: the plugin counts as missing, to be installed with Vagrant.
    const missing = [
      ...(host.platform === 'linux' ? [] : ['Linux']),
      ...(host.virshVersion ? [] : ['libvirt (virsh)']),
      ...(host.kvm ? [] : ['/dev/kvm']),
      ...(host.vagrantPlugins.includes('vagrant-libvirt') ? [] : ['the vagrant-libvirt plugin']),
    ];
    add(
      missing.length === 0
        ? { name: 'hypervisor', ok: true, detail: `libvirt ${host.virshVersion}, KVM` }
        : {
            name: 'hypervisor',
            ok: false,
            code: 'PROVIDER_LIBVIRT_NOT_USABLE',
            detail: `missing: ${missing.join(', ')}`,
            fix: 'apt-get install libvirt-daemon-system and vagrant plugin install vagrant-libvirt, enable KVM, or pass --provider virtualbox',
            // Linux and KVM are the machine's; libvirt and the plugin bootstrap can install.
            installable: host.platform === 'linux' && host.kvm,
          },
    );
  }
  return checks;
}
