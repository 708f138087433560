/**
 * The platform's options as users write them (each documented with its default), the complete configuration the
 * components render, and the error a bad option raises. Checked by schema.ts, filled in by resolve.ts.
 */
import type { CoreComponent, SourceName, TopicSpec } from '../airy-core.js';

// The release's own topics are typed with it, so the type lives beside them; an option here as well.
export type { TopicSpec } from '../airy-core.js';

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

/** Every key present and defined. */
export type Resolved<T> = { readonly [K in keyof T]-?: Exclude<T[K], undefined> };

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
