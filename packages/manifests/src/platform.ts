/**
 * The whole platform as data: every component's objects, in the order they are applied, plus the derived facts
 * other packages need (the images to pre-pull, the summed resources).
 */
import { airyCore } from './components/airy-core.js';
import { apps } from './components/apps.js';
import { type KubeObject, plain } from './components/common.js';
import { gatewayCertificate, ingress, istioOperator } from './components/ingress.js';
import { kafka } from './components/kafka.js';
import { namespace, networkPolicies } from './components/namespace.js';
import { ngrok } from './components/ngrok.js';
import { postgres } from './components/postgres.js';
import { schemaRegistry } from './components/schema-registry.js';
import { topics } from './components/topics.js';
import { zookeeper } from './components/zookeeper.js';
import { type PlatformConfig, type PlatformOptions, resolveOptions } from './options.js';
import { podSpecOf } from './pods.js';
import { formatCpu, formatMemory, parseCpu, parseMemory } from './quantity.js';
import { ISTIO_IMAGES, KUBERNETES_IMAGES } from './versions.js';

/** One component's objects; `file` is where `render` writes them. */
export interface ComponentManifest {
  readonly component: string;
  readonly file: string;
  readonly objects: readonly KubeObject[];
}

/** The rendered platform. */
export interface Platform {
  readonly config: PlatformConfig;
  /** Components in dependency order: the order to apply them in. Empty components are left out. */
  readonly components: readonly ComponentManifest[];
  /** The IstioOperator for `istioctl install -f` (not part of the kustomization). */
  readonly istioOperator: KubeObject;
  /** cert-manager's Certificate for the gateway, in `istio-system` (not part of the kustomization), when asked. */
  readonly certificate?: KubeObject;
}

const COMPONENTS: ReadonlyArray<readonly [string, (config: PlatformConfig) => KubeObject[]]> = [
  ['namespace', namespace],
  ['network-policies', networkPolicies],
  ['postgres', postgres],
  ['zookeeper', zookeeper],
  ['kafka', kafka],
  ['schema-registry', schemaRegistry],
  ['topics', topics],
  ['ngrok', ngrok],
  ['airy-core', airyCore],
  ['apps', apps],
  ['ingress', ingress],
];

/** Renders every component of the platform for `options` (see {@link PlatformOptions}). Pure and deterministic. */
export function renderPlatform(options: PlatformOptions = {}): Platform {
  const config = resolveOptions(options);
  const components = COMPONENTS.map(([component, make]) => ({
    component,
    file: `${component}.yaml`,
    objects: make(config).map(plain),
  })).filter((c) => c.objects.length > 0);
  const certificate = gatewayCertificate(config);
  return { config, components, istioOperator: plain(istioOperator(config)), ...(certificate ? { certificate: plain(certificate) } : {}) };
}

export { podSpecOf } from './pods.js';

/** Every object of the platform, in apply order. */
export function platformObjects(platform: Platform): KubeObject[] {
  return platform.components.flatMap((c) => c.objects);
}

/**
 * Every container image the platform runs, sorted and unique: what the box pre-pulls so that `vagrant up`
 * needs no registry.
 */
export function platformImages(options: PlatformOptions = {}): string[] {
  const images = new Set<string>();
  for (const object of platformObjects(renderPlatform(options))) {
    const pod = podSpecOf(object);
    for (const c of [...(pod?.spec.containers ?? []), ...(pod?.spec.initContainers ?? [])]) {
      if (c.image) images.add(c.image);
    }
  }
  return [...images].sort();
}

/** Summed CPU (millicores) and memory (bytes). */
export interface ResourceTotals {
  readonly cpuMillicores: number;
  readonly memoryBytes: number;
}

/** The platform's summed requests and limits, over every replica of every long-running workload. */
export interface PlatformResources {
  readonly requests: ResourceTotals;
  readonly limits: ResourceTotals;
  /** The same sums per component. */
  readonly components: Readonly<Record<string, { requests: ResourceTotals; limits: ResourceTotals }>>;
}

/**
 * Sums the requests and limits of the platform's long-running pods (Jobs run once and are left out).
 * Bootstrap's preflight sizes its checks from this.
 */
export function platformResources(options: PlatformOptions = {}): PlatformResources {
  const zero = () => ({ cpuMillicores: 0, memoryBytes: 0 });
  const total = { requests: zero(), limits: zero() };
  const components: Record<string, { requests: ResourceTotals; limits: ResourceTotals }> = {};
  for (const c of renderPlatform(options).components) {
    const sum = { requests: zero(), limits: zero() };
    for (const object of c.objects) {
      const pod = podSpecOf(object);
      if (!pod || object.kind === 'Job' || object.kind === 'CronJob') continue;
      for (const container of pod.spec.containers ?? []) {
        for (const kind of ['requests', 'limits'] as const) {
          const r = container.resources?.[kind] ?? {};
          sum[kind].cpuMillicores += parseCpu(r.cpu ?? '0') * pod.replicas;
          sum[kind].memoryBytes += parseMemory(r.memory ?? '0') * pod.replicas;
        }
      }
    }
    if (sum.limits.memoryBytes === 0 && sum.requests.memoryBytes === 0) continue;
    components[c.component] = sum;
    for (const kind of ['requests', 'limits'] as const) {
      total[kind].cpuMillicores += sum[kind].cpuMillicores;
      total[kind].memoryBytes += sum[kind].memoryBytes;
    }
  }
  return { ...total, components };
}

/** Totals as Kubernetes quantities, for printing. */
export function formatTotals(t: ResourceTotals): { cpu: string; memory: string } {
  return { cpu: formatCpu(t.cpuMillicores), memory: formatMemory(t.memoryBytes) };
}

/**
 * The options the Vagrant box is built with, and so what `infrastructure/deployments/` holds: the local profile,
 * with database credentials in a Secret that the box's provisioning creates on first boot (no password in git).
 * The in-cluster ngrok agent needs your authtoken, so it is not in the default set: the box carries it beside
 * ({@link BOX_TUNNEL_OPTIONS}) and starts it when bootstrap hands it a token.
 */
export const BOX_PLATFORM_OPTIONS: PlatformOptions = {
  profile: 'local',
  postgres: { existingSecret: 'postgres-credentials' },
  ngrok: { enabled: false },
  // The release's installer clones its catalog from GitHub at start and ends without it (a crash loop offline,
  // every first boot tied to that repository online), and installs charts from the internet: left out of the box.
  componentsInstaller: false,
};

/** The box's optional part: the in-cluster ngrok agent, applied at boot once its Secret exists. */
export const BOX_TUNNEL_OPTIONS: PlatformOptions = { ...BOX_PLATFORM_OPTIONS, ngrok: { enabled: true } };

/**
 * Every image the box must hold so that its first boot needs no registry: what any pod of the platform (and of
 * its optional tunnel) runs, init containers and Jobs included, Istio's control plane and gateway, and what
 * Kubernetes itself runs. Sorted and unique.
 */
export function boxImages(): string[] {
  return [...new Set([...platformImages(BOX_TUNNEL_OPTIONS), ISTIO_IMAGES.pilot, ISTIO_IMAGES.proxy, ...KUBERNETES_IMAGES])].sort();
}
