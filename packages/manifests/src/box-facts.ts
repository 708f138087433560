/**
 * The facts of the Vagrant box, in one place: the VM's size, the host name, the namespace, the database and its
 * Secret, the ports, what the platform requests, the pinned versions and the webhook paths. Plain data, derived from
 * the platform model. Bootstrap compiles them in (so a laptop install needs no Kubernetes code), box-builder hands
 * them to Packer (variables) and to the provisioning scripts (an env file), so nothing is restated by hand.
 */
import { CORE_API_READY, CORE_COMPONENTS, CORE_MANAGED_LABEL, type SourceName } from './airy-core.js';
import { KAFKA_CLIENT_HEAP } from './components/jvm.js';
import { KAFKA } from './components/kafka.js';
import { NGROK } from './components/ngrok.js';
import { POSTGRES } from './components/postgres.js';
import { SCHEMA_REGISTRY } from './components/schema-registry.js';
import { resolveOptions } from './options.js';
import { BOX_PLATFORM_OPTIONS, BOX_TUNNEL_OPTIONS, platformResources, renderPlatform, type ResourceTotals } from './platform.js';
import { jobsEnv, lifecycleJobs, lifecycleTiers, tiersEnv } from './lifecycle.js';
import { API_SERVER_PORTS, NODE_PORT_RANGE, PORT_CHAIN } from './port-chain.js';
import { BOX_TUNNEL_FILE } from './render.js';
import { LOCAL_VM, nodeBudget, systemReserved } from './sizing.js';
import { COMPONENT_VERSIONS } from './versions.js';
import { WEBHOOK_SOURCES } from '@airy/cli-kit';

/** The box's facts; see the module comment. */
export interface BoxFacts {
  /**
   * The VM's default size; `reserved` is what the kubelet keeps for the OS, `system` what Kubernetes' own pods and
   * Istio request. The platform's requests plus both must fit the VM.
   */
  readonly vm: {
    readonly cpus: number;
    readonly memoryMiB: number;
    readonly diskMiB: number;
    readonly reserved: ResourceTotals;
    readonly system: ResourceTotals;
  };
  /** The host name the ingress answers to, e.g. `airy.core`. */
  readonly host: string;
  /** The VM's own host name (`airy-core`): the build's, the Vagrantfile's, and in the box's /etc/hosts. */
  readonly vmHostname: string;
  readonly namespace: string;
  readonly postgres: {
    readonly component: string;
    readonly port: number;
    readonly database: string;
    readonly user: string;
    readonly secret: string;
    readonly userKey: string;
    readonly passwordKey: string;
  };
  /** `clientHeap`: the heap of Kafka's own tools run inside the broker's container (a probe), never the broker's. */
  readonly kafka: { readonly component: string; readonly port: number; readonly clientHeap: string };
  /**
   * The release's app tier: `selector` finds its Deployments; `api` is the request through the ingress that
   * answers `status` once the API serves.
   */
  readonly apps: {
    readonly selector: string;
    readonly api: { readonly method: string; readonly path: string; readonly body: string; readonly status: number };
  };
  /**
   * The Secret the in-cluster ngrok agent reads its authtoken from, and the file in the VM (root's, 0600) that
   * bootstrap hands the token over in and the box makes the Secret from.
   */
  readonly ngrok: { readonly secret: string; readonly tokenKey: string; readonly tokenFile: string };
  readonly schemaRegistry: { readonly component: string; readonly port: number };
  /** The port chain's ends: host port → VM port (= the gateway's NodePort), and the NodePort range that allows them. */
  readonly ports: {
    readonly http: { readonly host: number; readonly vm: number };
    readonly https: { readonly host: number; readonly vm: number };
    /** The Kubernetes API: forwarded from the VM to the host, for a kubeconfig on the laptop. */
    readonly apiServer: { readonly host: number; readonly vm: number };
    readonly nodePortRange: string;
  };
  /** What the platform's long-running pods request and are limited to, summed. */
  readonly resources: { readonly requests: ResourceTotals; readonly limits: ResourceTotals };
  readonly componentVersions: Readonly<Record<string, string>>;
  /** Each webhook source's path, and whether the box runs it (sources are optional, as in the release). */
  readonly webhooks: readonly { readonly source: string; readonly path: string; readonly secret: string; readonly installed: boolean }[];
  /** The script in the box that stops the platform tier by tier (`airy-lifecycle stop`), run before every halt. */
  readonly lifecycle: string;
  /** The start order, tier by tier (stop is the reverse): what bootstrap and the box's scripts follow. */
  readonly tiers: readonly { readonly name: string; readonly workloads: readonly string[] }[];
  /** Where the release's frontends are mounted on the ingress, e.g. `/control-center/`; its API is at the root. */
  readonly paths: { readonly ui: string; readonly inbox: string };
  /**
   * Minikube's one home (its profile, certificates and binary cache), the same for the build and for the unit
   * that starts it at boot: a unit without `User=` has no `HOME`, and `sudo -E` in the build keeps the vagrant
   * user's, so without it the two would make two clusters' worth of certificates.
   */
  readonly minikubeHome: string;
  /**
   * Where PersistentVolumes live. Minikube's storage-provisioner writes them under `provisioner` (a path in `/tmp`,
   * fixed in its code), which Ubuntu empties at boot; the box binds `persistent`, on the disk, over it before
   * the kubelet starts.
   */
  readonly volumes: { readonly persistent: string; readonly provisioner: string };
}

/** The box's tiers, with its optional tunnel's agent among the apps (stopped first when it runs). */
function boxTiers() {
  return lifecycleTiers(renderPlatform(BOX_TUNNEL_OPTIONS));
}

/** The path a release frontend is mounted under (its prefix route rewritten to `/`). */
function mountOf(name: string): string {
  const route = CORE_COMPONENTS.find((c) => c.name === name)?.routes.find((r) => r.match === 'prefix' && r.rewrite === '/');
  if (!route) throw new Error(`${name} has no mount point`);
  return route.path;
}

/** The facts of the box the local profile is built into. */
export function boxFacts(): BoxFacts {
  const config = resolveOptions(BOX_PLATFORM_OPTIONS);
  const resources = platformResources(BOX_PLATFORM_OPTIONS);
  const budget = nodeBudget(BOX_PLATFORM_OPTIONS);
  const system = {
    cpuMillicores: budget.requests.istio.cpuMillicores + budget.requests.kubeSystem.cpuMillicores,
    memoryBytes: budget.requests.istio.memoryBytes + budget.requests.kubeSystem.memoryBytes,
  };
  return {
    vm: { cpus: LOCAL_VM.cpus, memoryMiB: LOCAL_VM.memoryMiB, diskMiB: LOCAL_VM.diskMiB, reserved: { ...LOCAL_VM.reserved }, system },
    host: config.ingress.hosts[0] as string,
    vmHostname: (config.ingress.hosts[0] as string).replaceAll('.', '-'),
    namespace: config.namespace,
    postgres: {
      component: POSTGRES.component,
      port: POSTGRES.port,
      database: config.postgres.database,
      user: config.postgres.user,
      secret: config.postgres.secret.name,
      userKey: POSTGRES.userKey,
      passwordKey: POSTGRES.passwordKey,
    },
    kafka: { component: KAFKA.component, port: KAFKA.port, clientHeap: KAFKA_CLIENT_HEAP },
    apps: { selector: `${CORE_MANAGED_LABEL.key}=${CORE_MANAGED_LABEL.value}`, api: { ...CORE_API_READY } },
    ngrok: { secret: resolveOptions(BOX_TUNNEL_OPTIONS).ngrok.authtokenSecret, tokenKey: NGROK.tokenKey, tokenFile: '/etc/airy/ngrok-authtoken' },
    schemaRegistry: { component: SCHEMA_REGISTRY.component, port: SCHEMA_REGISTRY.port },
    ports: {
      http: { host: PORT_CHAIN.http.host, vm: PORT_CHAIN.http.vm },
      https: { host: PORT_CHAIN.https.host, vm: PORT_CHAIN.https.vm },
      apiServer: { ...API_SERVER_PORTS },
      nodePortRange: NODE_PORT_RANGE,
    },
    resources: { requests: resources.requests, limits: resources.limits },
    componentVersions: { ...COMPONENT_VERSIONS },
    webhooks: WEBHOOK_SOURCES.map((s) => ({ source: s.source, path: s.path, secret: s.secret, installed: config.core.sources.includes(s.source as SourceName) })),
    paths: { ui: mountOf('frontend-control-center'), inbox: mountOf('frontend-inbox') },
    lifecycle: '/usr/local/bin/airy-lifecycle',
    minikubeHome: '/root/.minikube',
    volumes: { persistent: '/var/lib/airy/volumes', provisioner: '/tmp/hostpath-provisioner' },
    tiers: boxTiers().map((t) => ({ name: t.name, workloads: t.workloads.map((w) => `${w.kind}/${w.name}`) })),
  };
}

const SAFE = /^[A-Za-z0-9._:/=,;-]+$/;

/**
 * The facts the provisioning scripts need, as a shell env file (`set -a; . airy.env`). Every value is checked to
 * hold no shell syntax and is single-quoted besides.
 */
export function boxFactsEnv(facts: BoxFacts = boxFacts()): string {
  const vars: Record<string, string | number> = {
    AIRY_NAMESPACE: facts.namespace,
    AIRY_HOST: facts.host,
    AIRY_VM_HOSTNAME: facts.vmHostname,
    AIRY_POSTGRES_SECRET: facts.postgres.secret,
    AIRY_POSTGRES_USER: facts.postgres.user,
    AIRY_POSTGRES_USER_KEY: facts.postgres.userKey,
    AIRY_POSTGRES_PASSWORD_KEY: facts.postgres.passwordKey,
    AIRY_NODE_PORT_RANGE: facts.ports.nodePortRange,
    AIRY_API_SERVER_PORT: facts.ports.apiServer.vm,
    AIRY_SYSTEM_RESERVED: systemReserved(),
    AIRY_NGROK_SECRET: facts.ngrok.secret,
    AIRY_NGROK_TOKEN_KEY: facts.ngrok.tokenKey,
    AIRY_TUNNEL_FILE: BOX_TUNNEL_FILE,
    AIRY_NGROK_TOKEN_FILE: facts.ngrok.tokenFile,
    AIRY_TIERS: tiersEnv(boxTiers()),
    AIRY_JOBS: jobsEnv(lifecycleJobs(renderPlatform(BOX_PLATFORM_OPTIONS))),
    AIRY_LIFECYCLE: facts.lifecycle,
    AIRY_KUBERNETES_VERSION: facts.componentVersions.kubernetes as string,
    AIRY_MINIKUBE_HOME: facts.minikubeHome,
    AIRY_VOLUMES_DIR: facts.volumes.persistent,
    AIRY_PROVISIONER_DIR: facts.volumes.provisioner,
    AIRY_VM_CPUS: facts.vm.cpus,
    AIRY_VM_MEMORY_MIB: facts.vm.memoryMiB,
  };
  const lines = Object.entries(vars).map(([k, v]) => {
    const value = String(v);
    if (!SAFE.test(value)) throw new Error(`box fact ${k}="${value}" holds characters a provisioning script must not get`);
    return `${k}='${value}'`;
  });
  return `# Generated by airy-box build from @airy/manifests' box facts. Do not edit.\n${lines.join('\n')}\n`;
}
