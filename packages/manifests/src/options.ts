/**
 * The platform's options (what users set) and their resolution into a complete configuration
 * (what the components render). Defaults come from the profile.
 */
import { didYouMean } from '@airy/cli-kit';
import {
  COMPONENTS_INSTALLER,
  CORE_COMPONENTS,
  type CoreComponent,
  PLATFORM_TOPICS,
  SOURCE_NAMES,
  type SourceName,
  sourceComponents,
  type TopicSpec,
} from './airy-core.js';

// The release's own topics are typed with it, so the type lives beside them; an option here as well.
export type { TopicSpec } from './airy-core.js';

/** The two profiles: one machine (Minikube in the box), or a real multi-node cluster. */
export const PROFILES = ['local', 'production'] as const;
/** `local` or `production`. */
export type Profile = (typeof PROFILES)[number];

/** How Kafka keeps its metadata. */
export const KAFKA_MODES = ['kraft', 'zookeeper'] as const;
/** `kraft` (default) or `zookeeper` (the seed's layout). */
export type KafkaMode = (typeof KAFKA_MODES)[number];

/** KRaft controllers inside the brokers, or a StatefulSet of their own. */
export const CONTROLLER_LAYOUTS = ['combined', 'separate'] as const;
/** `combined` or `separate`. */
export type ControllerLayout = (typeof CONTROLLER_LAYOUTS)[number];

/** Requests and limits of one container, as Kubernetes quantities. */
export interface ResourceSpec {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

/** Options of the Kafka brokers. */
export interface KafkaProps {
  /** @default "kraft" */
  readonly mode?: KafkaMode;
  /** @default 1 (local), 3 (production) */
  readonly brokers?: number;
  /** KRaft only. @default "combined" (local), "separate" (production) */
  readonly controllers?: ControllerLayout;
  /** KRaft with separate controllers only. @default 3 */
  readonly controllerCount?: number;
  /** Size of each broker's volume. @default "5Gi" (local), "100Gi" (production) */
  readonly storage?: string;
  /** @default profile-sized */
  readonly resources?: ResourceSpec;
  /** The KRaft cluster id (22 characters of base64url). @default derived from the namespace */
  readonly clusterId?: string;
}

/** Options of the ZooKeeper ensemble (mode `zookeeper` only). */
export interface ZookeeperProps {
  /** @default 1 (local), 3 (production) */
  readonly servers?: number;
  /** @default "1Gi" (local), "10Gi" (production) */
  readonly storage?: string;
  /** @default profile-sized */
  readonly resources?: ResourceSpec;
}

/** Options of the Confluent Schema Registry. */
export interface SchemaRegistryProps {
  /** @default 1 (local), 2 (production) */
  readonly replicas?: number;
  /** @default profile-sized */
  readonly resources?: ResourceSpec;
}

/**
 * Options of PostgreSQL. The password is never a default: pass `password` (it goes into a Secret that is
 * rendered), or `existingSecret` (a Secret you create, with keys `POSTGRES_USER` and `POSTGRES_PASSWORD`).
 * The CLI generates a strong password when neither is given.
 */
export interface PostgresProps {
  /** @default "airy_core" */
  readonly database?: string;
  /** @default "airy" */
  readonly user?: string;
  /** A password to store in the rendered Secret. */
  readonly password?: string;
  /** The name of a Secret that already exists in the namespace. */
  readonly existingSecret?: string;
  /** @default "2Gi" (local), "50Gi" (production) */
  readonly storage?: string;
  /** @default profile-sized */
  readonly resources?: ResourceSpec;
}

/** HTTPS on the ingress: a certificate Secret, made by you or by cert-manager. */
export interface TlsProps {
  /**
   * The `kubernetes.io/tls` Secret with the certificate, in the ingress gateway's namespace (`istio-system`),
   * where Istio reads it. @default "airy-core-tls"
   */
  readonly secret?: string;
  /** Have cert-manager issue the certificate into that Secret: the name of an `Issuer` or `ClusterIssuer`. */
  readonly certManagerIssuer?: string;
  /** @default "ClusterIssuer" */
  readonly certManagerIssuerKind?: 'ClusterIssuer' | 'Issuer';
}

/** Options of the Istio ingress. */
export interface IngressProps {
  /** Host names the `airy-core` Gateway accepts. @default ["airy.core"] */
  readonly hosts?: readonly string[];
  /** Serve HTTPS on 443 and redirect 80 to it. @default off */
  readonly tls?: TlsProps;
  /**
   * Serve plain HTTP only, said on purpose (e.g. behind a load balancer that ends TLS): `airy-manifests render
   * --profile production` refuses to render without `tls` or this. @default false
   */
  readonly plainHttp?: boolean;
}

/** Options of the in-cluster ngrok agent. */
export interface NgrokProps {
  /** @default true (local), false (production) */
  readonly enabled?: boolean;
  /** A static ngrok domain, so webhook URLs survive restarts. */
  readonly domain?: string;
  /** The Secret (key `authtoken`) you create with your ngrok authtoken. @default "ngrok" */
  readonly authtokenSecret?: string;
}

/** A service of your own, deployed like the platform's. */
export interface AppSpec {
  /** DNS-1035 name of the Deployment and Service. */
  readonly name: string;
  /** Image with an exact tag. */
  readonly image: string;
  /** The port the container listens on. */
  readonly port: number;
  /** Extra environment. Every app also gets KAFKA_BROKERS and KAFKA_SCHEMA_REGISTRY_URL. */
  readonly env?: Readonly<Record<string, string>>;
  /** Path prefixes routed to it by the ingress. @default none */
  readonly routes?: readonly string[];
  /** Give it the database credentials (DATABASE_HOST, DATABASE_NAME, DATABASE_USER, DATABASE_PASSWORD). */
  readonly database?: boolean;
  /** HTTP path for readiness and liveness probes. @default "/health" */
  readonly healthPath?: string;
  /** @default 1 (local), 2 (production) */
  readonly replicas?: number;
  /** @default profile-sized */
  readonly resources?: ResourceSpec;
}

/** Everything that can be set; all of it optional. */
export interface PlatformOptions {
  /** @default "local" */
  readonly profile?: Profile;
  /** @default "airy" */
  readonly namespace?: string;
  /** StorageClass of every volume. @default the cluster's default class */
  readonly storageClass?: string;
  readonly kafka?: KafkaProps;
  readonly zookeeper?: ZookeeperProps;
  readonly schemaRegistry?: SchemaRegistryProps;
  readonly postgres?: PostgresProps;
  /** Topics added to the platform's own. */
  readonly topics?: readonly TopicSpec[];
  readonly ingress?: IngressProps;
  readonly ngrok?: NgrokProps;
  /** Apps added to the platform's own (the Airy Core release's components). */
  readonly apps?: readonly AppSpec[];
  /** Leave out the Airy Core release's components: only the infrastructure and your apps. @default false */
  readonly replaceCoreApps?: boolean;
  /**
   * Run the release's components installer (`api-components-installer`, routes `/components.list`, `.install`,
   * `.uninstall`). It clones its catalog from GitHub when it starts, and ends if it cannot, and installs components'
   * Helm charts from the internet: the box leaves it out (`false`). @default true
   */
  readonly componentsInstaller?: boolean;
  /**
   * Webhook sources to run (the release's optional source components). Each reads its credentials from a Secret
   * you create, named `sources-<source>`. @default none
   */
  readonly sources?: readonly SourceName[];
}

/** An option with a bad value. The CLI turns it into a usage error (exit 2). */
export class OptionError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`);
    this.name = 'OptionError';
  }
}

/**
 * The keys an options object may have, level by level: `true` for a value (or a free-form map such as `env`), a
 * nested shape for an object, `[shape]` for a list of objects. Typed against each interface, so a key added to one
 * and not here does not compile.
 */
type Shape<T> = { readonly [K in keyof Required<T>]: true | Shape<NonNullable<T[K]>> | readonly [Shape<ItemOf<NonNullable<T[K]>>>] };
type ItemOf<T> = T extends readonly (infer I)[] ? I : never;
/** A shape as the walk reads it, without its interface. */
type AnyShape = { readonly [key: string]: unknown };

const RESOURCES: Shape<ResourceSpec> = { requests: { cpu: true, memory: true }, limits: { cpu: true, memory: true } };
const APP_KEYS: Shape<AppSpec> = { name: true, image: true, port: true, env: true, routes: true, database: true, healthPath: true, replicas: true, resources: RESOURCES };
const OPTION_KEYS: Shape<PlatformOptions> = {
  profile: true,
  namespace: true,
  storageClass: true,
  kafka: { mode: true, brokers: true, controllers: true, controllerCount: true, storage: true, resources: RESOURCES, clusterId: true },
  zookeeper: { servers: true, storage: true, resources: RESOURCES },
  schemaRegistry: { replicas: true, resources: RESOURCES },
  postgres: { database: true, user: true, password: true, existingSecret: true, storage: true, resources: RESOURCES },
  topics: [{ name: true, partitions: true, config: true }],
  ingress: { hosts: true, tls: { secret: true, certManagerIssuer: true, certManagerIssuerKind: true }, plainHttp: true },
  ngrok: { enabled: true, domain: true, authtokenSecret: true },
  apps: [APP_KEYS],
  replaceCoreApps: true,
  componentsInstaller: true,
  sources: true,
};

/**
 * Refuses a key no option has (`profle: production` would otherwise render the local profile without a word),
 * naming it and the nearest known key at its level.
 */
function checkKeys(value: unknown, shape: AnyShape, path: string): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) return;
  for (const [key, inner] of Object.entries(value)) {
    const where = path ? `${path}.${key}` : key;
    // Own keys only: `constructor`, `__proto__` or `toString` would otherwise find Object's own and walk it.
    const known = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (known === undefined) {
      const near = didYouMean(key, Object.keys(shape));
      throw new OptionError(where, `not an option${near ? ` (did you mean ${path ? `${path}.` : ''}${near}?)` : ` (options here: ${Object.keys(shape).join(', ')})`}`);
    }
    if (known === true) continue;
    if (Array.isArray(known)) {
      if (!Array.isArray(inner)) continue;
      for (const [i, item] of inner.entries()) checkKeys(item, known[0] as AnyShape, `${where}[${i}]`);
    } else checkKeys(inner, known as AnyShape, where);
  }
}

type Resolved<T> = { readonly [K in keyof T]-?: Exclude<T[K], undefined> };

/** One app as written, checked and with its defaults (those of `profile`); `at` names it in errors. */
function resolveAppAt(at: string, a: AppSpec, profile: Profile): Resolved<AppSpec> {
  const d = PROFILE_DEFAULTS[profile];
  return {
    name: name(`${at}.name`, a.name, ''),
    image: exactImage(`${at}.image`, a.image),
    port: count(`${at}.port`, a.port, 0, 1, 65535),
    env: stringMap(`${at}.env`, a.env),
    routes: list(`${at}.routes`, a.routes).map((route) => routePath(`${at}.routes`, route)),
    database: a.database ?? false,
    healthPath: text(`${at}.healthPath`, a.healthPath ?? '/health'),
    replicas: count(`${at}.replicas`, a.replicas, d.appReplicas, 1, 50),
    resources: a.resources ?? d.resources.app,
  };
}

/**
 * An {@link AppSpec} as a user writes it, checked and with the defaults of `config`'s profile, as `apps:` in the
 * options would be. Throws {@link OptionError}.
 */
export function resolveApp(config: PlatformConfig, spec: AppSpec): Resolved<AppSpec> {
  // Keys are checked here; `apps:` of the options had theirs checked with the rest of the options.
  checkKeys(spec, APP_KEYS, 'app');
  return resolveAppAt('app', spec, config.profile);
}

/** The configuration the components render: every option resolved. */
export interface PlatformConfig {
  readonly profile: Profile;
  readonly namespace: string;
  readonly storageClass: string | undefined;
  readonly kafka: Resolved<KafkaProps> & { readonly controllerResources: ResourceSpec };
  readonly zookeeper: Resolved<ZookeeperProps>;
  readonly schemaRegistry: Resolved<SchemaRegistryProps>;
  readonly postgres: Resolved<Omit<PostgresProps, 'password' | 'existingSecret'>> & {
    /**
     * The credentials' Secret: rendered with `password`; else `external` (a Secret of the user's, `existingSecret`)
     * or neither, which validation reports as missing: the pods could not start.
     */
    readonly secret: { readonly name: string; readonly password?: string; readonly external: boolean };
  };
  readonly topics: readonly Required<TopicSpec>[];
  readonly ingress: {
    readonly hosts: readonly string[];
    readonly tls:
      | { readonly secret: string; readonly certManager?: { readonly issuer: string; readonly kind: 'ClusterIssuer' | 'Issuer' } }
      | undefined;
    /** Plain HTTP chosen on purpose (see {@link IngressProps.plainHttp}). */
    readonly plainHttp: boolean;
  };
  readonly ngrok: Resolved<Omit<NgrokProps, 'domain'>> & { readonly domain: string | undefined };
  readonly apps: readonly Resolved<AppSpec>[];
  /** The Airy Core release's components that run (mandatory ones and enabled sources), with their sizes. */
  readonly core: {
    readonly components: readonly CoreComponent[];
    readonly sources: readonly SourceName[];
    readonly replicas: number;
    readonly resources: { readonly spring: ResourceSpec; readonly frontend: ResourceSpec; readonly controller: ResourceSpec };
  };
  /** Replication of internal topics and `min.insync.replicas`, from the broker count. */
  readonly replication: { readonly factor: number; readonly minInsync: number };
}

const r = (cpu: string, memory: string, cpuLimit: string, memoryLimit: string): ResourceSpec => ({
  requests: { cpu, memory },
  limits: { cpu: cpuLimit, memory: memoryLimit },
});

/** Defaults that differ by profile. The local ones fit a 4-CPU / 8-GiB VM (see `LOCAL_VM`). */
const PROFILE_DEFAULTS = {
  local: {
    brokers: 1,
    controllers: 'combined',
    zookeeperServers: 1,
    schemaRegistryReplicas: 1,
    appReplicas: 1,
    partitions: 1,
    storage: { kafka: '5Gi', zookeeper: '1Gi', postgres: '2Gi' },
    resources: {
      kafka: r('250m', '768Mi', '1', '1Gi'),
      controller: r('100m', '384Mi', '500m', '512Mi'),
      zookeeper: r('100m', '256Mi', '500m', '512Mi'),
      schemaRegistry: r('100m', '256Mi', '500m', '512Mi'),
      postgres: r('100m', '256Mi', '500m', '512Mi'),
      app: r('50m', '192Mi', '250m', '384Mi'),
      // The release sets no resources; a Spring Boot app with Kafka Streams needs about this much.
      spring: r('100m', '384Mi', '1', '768Mi'),
      frontend: r('10m', '32Mi', '200m', '128Mi'),
    },
    ngrok: true,
  },
  production: {
    brokers: 3,
    controllers: 'separate',
    zookeeperServers: 3,
    schemaRegistryReplicas: 2,
    appReplicas: 2,
    partitions: 10,
    storage: { kafka: '100Gi', zookeeper: '10Gi', postgres: '50Gi' },
    resources: {
      kafka: r('1', '4Gi', '2', '4Gi'),
      controller: r('250m', '1Gi', '1', '1Gi'),
      zookeeper: r('250m', '1Gi', '1', '1Gi'),
      schemaRegistry: r('250m', '1Gi', '1', '1Gi'),
      postgres: r('500m', '1Gi', '2', '2Gi'),
      app: r('250m', '512Mi', '1', '1Gi'),
      spring: r('250m', '768Mi', '2', '1536Mi'),
      frontend: r('50m', '64Mi', '500m', '256Mi'),
    },
    ngrok: false,
  },
} as const;

const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const SIZE = /^\d+(Ki|Mi|Gi|Ti)$/;

/** A string option (a config file may hold a number or a list where a string belongs). */
function text(option: string, value: unknown): string {
  if (typeof value !== 'string') throw new OptionError(option, `must be a string, got ${JSON.stringify(value)}`);
  return value;
}

/** A Kubernetes object name (DNS-1123 subdomain): what a StorageClass is called. */
function dnsName(option: string, value: unknown): string {
  const name = text(option, value);
  if (name.length > 253 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name)) {
    throw new OptionError(option, `${JSON.stringify(name)} is not a Kubernetes name (lowercase letters, digits, '-' and '.')`);
  }
  return name;
}

/** A DNS host name with at least two labels, such as a reserved ngrok domain. */
function hostName(option: string, value: unknown): string {
  const name = text(option, value);
  if (name.length > 253 || !/^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) {
    throw new OptionError(option, `${JSON.stringify(name)} is not a host name (e.g. airy-demo.ngrok.app)`);
  }
  return name;
}

/** A map of string values, such as env or topic config; numbers and booleans are written as YAML would show them. */
function stringMap(option: string, value: Record<string, unknown> | undefined): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OptionError(option, 'must be a mapping');
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      if (typeof v === 'number' || typeof v === 'boolean') return [k, String(v)];
      return [k, text(`${option}.${k}`, v)];
    }),
  );
}

const DNS_NAME = /^(\*\.)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

function oneOf<T extends string>(option: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  text(option, value);
  if (!(allowed as readonly string[]).includes(value)) {
    throw new OptionError(option, `unknown value "${value}" (allowed: ${allowed.join(', ')})`);
  }
  return value as T;
}

/** A list option; anything else (from a config file) is bad input. */
function list<T>(option: string, value: readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new OptionError(option, 'must be a list');
  return value;
}

/**
 * A route's path prefix: a URL path of its own characters only (no whitespace, newline or quote reaches the
 * VirtualService), with no `.` or `..` segment, written or percent-encoded (a proxy may resolve them to another app).
 */
function routePath(option: string, value: unknown): string {
  const path = text(option, value);
  if (!path.startsWith('/')) throw new OptionError(option, `${JSON.stringify(path)} must start with /`);
  if (!/^\/[A-Za-z0-9\-._~!$&()*+,;=:@%/]*$/.test(path) || /%(?![0-9A-Fa-f]{2})/.test(path)) {
    throw new OptionError(option, `${JSON.stringify(path)} is not a URL path (letters, digits, - . _ ~ / and %XX; no spaces, quotes or newlines)`);
  }
  const dots = path.split('/').some((segment) => /^(\.|%2e){1,2}$/i.test(segment));
  if (dots) throw new OptionError(option, `${JSON.stringify(path)} has a . or .. segment: give the path as the app sees it`);
  return path;
}

function count(option: string, value: number | undefined, fallback: number, min = 1, max = 99): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new OptionError(option, `must be a whole number from ${min} to ${max}, got ${value}`);
  }
  return n;
}

function size(option: string, value: string | undefined, fallback: string): string {
  const s = text(option, value ?? fallback);
  if (!SIZE.test(s)) throw new OptionError(option, `must be a size such as 10Gi, got "${s}"`);
  return s;
}

function name(option: string, value: string | undefined, fallback: string): string {
  const n = text(option, value ?? fallback);
  if (!DNS_LABEL.test(n)) throw new OptionError(option, `must be a DNS label (a-z, 0-9, -), got "${n}"`);
  return n;
}

function exactImage(option: string, value: string): string {
  const image = text(option, value);
  const tag = image.includes('@') ? 'digest' : image.slice(image.lastIndexOf('/') + 1).split(':')[1];
  if (!tag || tag === 'latest') throw new OptionError(option, `image "${image}" must be pinned to an exact tag`);
  return image;
}

/** A deterministic KRaft cluster id for a namespace: 16 bytes as base64url. */
function clusterIdFor(namespace: string): string {
  // FNV-1a over the namespace, stretched to 16 bytes; stable across runs and machines.
  const bytes = new Uint8Array(16);
  let h = 0x811c9dc5;
  for (let i = 0; i < 16; i++) {
    for (const ch of `airy-core/${namespace}/${i}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    bytes[i] = h & 0xff;
  }
  return Buffer.from(bytes).toString('base64url');
}

/** Fills in every default from the profile and checks every value; throws {@link OptionError}. */
export function resolveOptions(options: PlatformOptions = {}): PlatformConfig {
  checkKeys(options, OPTION_KEYS, '');
  const profile = oneOf('profile', options.profile, PROFILES, 'local');
  const d = PROFILE_DEFAULTS[profile];
  const namespace = name('namespace', options.namespace, 'airy');
  const k = options.kafka ?? {};
  const brokers = count('kafka.brokers', k.brokers, d.brokers, 1, 15);
  const mode = oneOf('kafka-mode', k.mode, KAFKA_MODES, 'kraft');
  const clusterId = k.clusterId ?? clusterIdFor(namespace);
  if (!/^[A-Za-z0-9_-]{22}$/.test(clusterId)) {
    throw new OptionError('kafka.clusterId', 'must be 22 characters of base64url (kafka-storage random-uuid)');
  }

  const pg = options.postgres ?? {};
  if (pg.password !== undefined && pg.existingSecret !== undefined) {
    throw new OptionError('postgres', 'give either a password or an existing Secret, not both');
  }
  if (pg.password !== undefined && text('postgres.password', pg.password).length < 16) {
    throw new OptionError('postgres.password', 'must be at least 16 characters');
  }
  const secretName = name('postgres.existingSecret', pg.existingSecret, 'postgres-credentials');

  const partitions = d.partitions;
  const sources = [...new Set(list('sources', options.sources).map((s, i) => oneOf(`sources[${i}]`, s, SOURCE_NAMES, 'facebook')))];
  const installer = options.componentsInstaller ?? true;
  if (typeof installer !== 'boolean') throw new OptionError('componentsInstaller', 'must be true or false');
  const mandatory = CORE_COMPONENTS.filter((c) => installer || c.name !== COMPONENTS_INSTALLER);
  const coreComponents = options.replaceCoreApps ? [] : [...mandatory, ...sources.flatMap(sourceComponents)];
  const topicSpecs = [
    ...PLATFORM_TOPICS.map((t, i) => [`platformTopics[${i}]`, t] as const),
    ...list('topics', options.topics).map((t, i) => [`topics[${i}]`, t] as const),
  ];
  const topics = topicSpecs.map(([at, t]) => {
    if (!TOPIC_NAME.test(text(`${at}.name`, t.name))) throw new OptionError(`${at}.name`, `"${t.name}" is not a valid topic name`);
    return {
      name: t.name,
      partitions: count(`${at}.partitions`, t.partitions, partitions, 1, 1000),
      config: stringMap(`${at}.config`, t.config),
    };
  });
  const seenTopics = new Set<string>();
  for (const t of topics) {
    if (seenTopics.has(t.name)) throw new OptionError('topics', `topic "${t.name}" is listed twice`);
    seenTopics.add(t.name);
  }

  // Users' apps are named by their own index in the errors, whatever comes before them.
  const appSpecs = [
    ...list('apps', options.apps).map((a, i) => [`apps[${i}]`, a] as const),
  ];
  const apps = appSpecs.map(([at, a]) => resolveAppAt(at, a, profile));
  const seenApps = new Set<string>();
  for (const a of [...coreComponents, ...apps]) {
    if (seenApps.has(a.name)) throw new OptionError('apps', `app "${a.name}" is defined twice (or is a name of the release)`);
    seenApps.add(a.name);
  }

  const hosts = [...list('ingress.hosts', options.ingress?.hosts ?? ['airy.core'])];
  if (hosts.length === 0) throw new OptionError('ingress.hosts', 'needs at least one host');
  hosts.forEach((h, i) => {
    if (!DNS_NAME.test(text(`ingress.hosts[${i}]`, h))) throw new OptionError(`ingress.hosts[${i}]`, `"${h}" is not a host name`);
  });

  const tlsProps = options.ingress?.tls;
  if (tlsProps !== undefined && (typeof tlsProps !== 'object' || tlsProps === null || Array.isArray(tlsProps))) {
    throw new OptionError('ingress.tls', 'must be a mapping (secret, certManagerIssuer)');
  }
  const tls = tlsProps
    ? {
        secret: name('ingress.tls.secret', tlsProps.secret, 'airy-core-tls'),
        ...(tlsProps.certManagerIssuer !== undefined
          ? {
              certManager: {
                issuer: name('ingress.tls.certManagerIssuer', tlsProps.certManagerIssuer, ''),
                kind: oneOf('ingress.tls.certManagerIssuerKind', tlsProps.certManagerIssuerKind, ['ClusterIssuer', 'Issuer'] as const, 'ClusterIssuer'),
              },
            }
          : {}),
      }
    : undefined;
  const plainHttp = options.ingress?.plainHttp ?? false;
  if (typeof plainHttp !== 'boolean') throw new OptionError('ingress.plainHttp', 'must be true or false');
  if (tls && plainHttp) throw new OptionError('ingress.plainHttp', 'cannot be true with ingress.tls: choose one');
  if (tls?.certManager && hosts.some((h) => h.startsWith('*.'))) {
    throw new OptionError('ingress.hosts', 'cert-manager cannot issue a wildcard host through HTTP-01: give exact host names, or your own --tls-secret');
  }

  const factor = Math.min(3, brokers);
  return {
    profile,
    namespace,
    storageClass: options.storageClass === undefined ? undefined : dnsName('storageClass', options.storageClass),
    kafka: {
      mode,
      brokers,
      controllers: oneOf('kafka.controllers', k.controllers, CONTROLLER_LAYOUTS, d.controllers),
      controllerCount: count('kafka.controllerCount', k.controllerCount, 3, 1, 9),
      storage: size('kafka.storage', k.storage, d.storage.kafka),
      resources: k.resources ?? d.resources.kafka,
      clusterId,
      controllerResources: d.resources.controller,
    },
    zookeeper: {
      servers: count('zookeeper.servers', options.zookeeper?.servers, d.zookeeperServers, 1, 9),
      storage: size('zookeeper.storage', options.zookeeper?.storage, d.storage.zookeeper),
      resources: options.zookeeper?.resources ?? d.resources.zookeeper,
    },
    schemaRegistry: {
      replicas: count('schemaRegistry.replicas', options.schemaRegistry?.replicas, d.schemaRegistryReplicas, 1, 9),
      resources: options.schemaRegistry?.resources ?? d.resources.schemaRegistry,
    },
    postgres: {
      database: pg.database ?? 'airy_core',
      user: pg.user ?? 'airy',
      storage: size('postgres.storage', pg.storage, d.storage.postgres),
      resources: pg.resources ?? d.resources.postgres,
      secret: { name: secretName, password: pg.password, external: pg.existingSecret !== undefined },
    },
    topics,
    ingress: { hosts, tls, plainHttp },
    ngrok: {
      enabled: options.ngrok?.enabled ?? d.ngrok,
      domain: options.ngrok?.domain === undefined ? undefined : hostName('ngrok.domain', options.ngrok.domain),
      authtokenSecret: name('ngrok.authtokenSecret', options.ngrok?.authtokenSecret, 'ngrok'),
    },
    apps,
    core: {
      components: coreComponents,
      sources,
      replicas: d.appReplicas,
      resources: {
        spring: d.resources.spring,
        frontend: d.resources.frontend,
        // The release's own sizes for its controller.
        controller: r('50m', '32Mi', '50m', '128Mi'),
      },
    },
    replication: { factor, minInsync: factor >= 3 ? 2 : 1 },
  };
}
