/**
 * Does the platform fit its node? The box's VM, what the kubelet keeps of it for the OS and itself, what
 * Kubernetes' own pods and Istio request, and the platform's summed requests, in one place. Bootstrap's preflight,
 * the Vagrantfile's defaults, the Packer variables and the kubelet's reservation in the box all read these facts.
 */
import type { PlatformOptions } from './options.js';
import { platformResources, renderPlatform, type ResourceTotals } from './platform.js';
import { parseCpu, parseMemory } from './quantity.js';

const MiB = 2 ** 20;

/** The VM the local profile is sized for (the box's default). */
export const LOCAL_VM = {
  cpus: 4,
  memoryMiB: 8192,
  /**
   * The box's disk: Packer's qemu `disk_size`, and the primary disk bootstrap asks Vagrant to grow a VirtualBox VM's
   * to (the Ubuntu OVA's is about 10 GiB, nearly full after the release's images).
   */
  diskMiB: 40960,
  /** Kept from pods for the OS, containerd and the kubelet (`--system-reserved`). */
  reserved: { cpuMillicores: 500, memoryBytes: 1024 * MiB },
} as const;

/**
 * What Kubernetes itself requests on the box's node: kubeadm's static pods (apiserver 250m, controller-manager
 * 200m, scheduler 100m, etcd 100m and 100Mi) and CoreDNS (100m, 70Mi). kube-proxy and Minikube's storage
 * provisioner request nothing.
 */
export const KUBE_SYSTEM_REQUESTS: ResourceTotals = { cpuMillicores: 750, memoryBytes: 170 * MiB };

/** The node's budget and who takes what of it. */
export interface NodeBudget {
  readonly vm: { readonly cpus: number; readonly memoryMiB: number };
  readonly reserved: ResourceTotals;
  /** What pods may request: the VM less the reservation. */
  readonly allocatable: ResourceTotals;
  readonly requests: {
    readonly platform: ResourceTotals;
    readonly istio: ResourceTotals;
    readonly kubeSystem: ResourceTotals;
    readonly total: ResourceTotals;
  };
  readonly fits: boolean;
}

/** The requests of Istio's control plane and gateways, read from the IstioOperator the box installs. */
export function istioRequests(options: PlatformOptions = {}): ResourceTotals {
  // biome-ignore lint/suspicious/noExplicitAny: the IstioOperator's spec is plain data.
  const spec = renderPlatform(options).istioOperator.spec as any;
  const parts = [spec?.components?.pilot, ...(spec?.components?.ingressGateways ?? [])];
  return parts.reduce(
    (sum: ResourceTotals, part) => ({
      cpuMillicores: sum.cpuMillicores + parseCpu(part?.k8s?.resources?.requests?.cpu ?? '0'),
      memoryBytes: sum.memoryBytes + parseMemory(part?.k8s?.resources?.requests?.memory ?? '0'),
    }),
    { cpuMillicores: 0, memoryBytes: 0 },
  );
}

const add = (...totals: ResourceTotals[]): ResourceTotals => ({
  cpuMillicores: totals.reduce((s, t) => s + t.cpuMillicores, 0),
  memoryBytes: totals.reduce((s, t) => s + t.memoryBytes, 0),
});

/** The node budget of a VM of `vm`'s size running the platform of `options`. Pure. */
export function nodeBudget(options: PlatformOptions = {}, vm: { cpus: number; memoryMiB: number } = LOCAL_VM): NodeBudget {
  const reserved = { ...LOCAL_VM.reserved };
  const allocatable = {
    cpuMillicores: vm.cpus * 1000 - reserved.cpuMillicores,
    memoryBytes: vm.memoryMiB * MiB - reserved.memoryBytes,
  };
  const platform = platformResources(options).requests;
  const istio = istioRequests(options);
  const total = add(platform, istio, KUBE_SYSTEM_REQUESTS);
  return {
    vm: { cpus: vm.cpus, memoryMiB: vm.memoryMiB },
    reserved,
    allocatable,
    requests: { platform, istio, kubeSystem: { ...KUBE_SYSTEM_REQUESTS }, total },
    fits: total.cpuMillicores <= allocatable.cpuMillicores && total.memoryBytes <= allocatable.memoryBytes,
  };
}

/** The kubelet's `--system-reserved` value for the reservation. */
export function systemReserved(): string {
  return `cpu=${LOCAL_VM.reserved.cpuMillicores}m,memory=${LOCAL_VM.reserved.memoryBytes / MiB}Mi`;
}
