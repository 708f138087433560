/**
 * Options into the configuration the components render: checked (schema.ts), every default filled in (defaults.ts),
 * and the rules between options applied (a password or an existing Secret, TLS or plain HTTP, names used twice).
 */
import { COMPONENTS_INSTALLER, CORE_COMPONENTS, PLATFORM_TOPICS, sourceComponents } from '../airy-core.js';
import { clusterIdFor, DEFAULTS, PROFILE_DEFAULTS } from './defaults.js';
import { checkApp, checkOptions } from './schema.js';
import { type AppSpec, OptionError, type PlatformConfig, type PlatformOptions, type Profile, type Resolved } from './types.js';

/** Env values and topic configs as strings: a number or boolean as YAML shows it. */
const strings = (map: Readonly<Record<string, unknown>> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(map ?? {}).map(([k, v]) => [k, String(v)]));

/** One checked app with the defaults of `profile`. */
function appDefaults(a: AppSpec, profile: Profile): Resolved<AppSpec> {
  const d = PROFILE_DEFAULTS[profile];
  return {
    name: a.name,
    image: a.image,
    port: a.port,
    env: strings(a.env),
    routes: a.routes ?? [],
    database: a.database ?? DEFAULTS.database,
    healthPath: a.healthPath ?? DEFAULTS.healthPath,
    replicas: a.replicas ?? d.appReplicas,
    resources: a.resources ?? d.resources.app,
  };
}

/**
 * An {@link AppSpec} as a user writes it, checked and with the defaults of `config`'s profile, as `apps:` in the
 * options would be. Throws {@link OptionError}.
 */
export function resolveApp(config: PlatformConfig, spec: AppSpec): Resolved<AppSpec> {
  return appDefaults(checkApp(spec, 'app'), config.profile);
}

/** Fills in every default from the profile and checks every value; throws {@link OptionError} naming the key. */
export function resolveOptions(input: PlatformOptions = {}): PlatformConfig {
  const options = checkOptions(input);
  const profile = options.profile ?? DEFAULTS.profile;
  const d = PROFILE_DEFAULTS[profile];
  const namespace = options.namespace ?? DEFAULTS.namespace;
  const k = options.kafka ?? {};
  const brokers = k.brokers ?? d.brokers;

  const pg = options.postgres ?? {};
  if (pg.password !== undefined && pg.existingSecret !== undefined) {
    throw new OptionError('postgres', 'give either a password or an existing Secret, not both');
  }

  const sources = [...new Set(options.sources ?? [])];
  const installer = options.componentsInstaller ?? DEFAULTS.componentsInstaller;
  const mandatory = CORE_COMPONENTS.filter((c) => installer || c.name !== COMPONENTS_INSTALLER);
  const replaceCoreApps = options.replaceCoreApps ?? DEFAULTS.replaceCoreApps;
  const coreComponents = replaceCoreApps ? [] : [...mandatory, ...sources.flatMap(sourceComponents)];
  const topics = [...PLATFORM_TOPICS, ...(options.topics ?? [])].map((t) => ({
    name: t.name,
    partitions: t.partitions ?? d.partitions,
    config: strings(t.config),
  }));
  const seenTopics = new Set<string>();
  for (const t of topics) {
    if (seenTopics.has(t.name)) throw new OptionError('topics', `topic "${t.name}" is listed twice`);
    seenTopics.add(t.name);
  }

  const apps = (options.apps ?? []).map((a) => appDefaults(a, profile));
  const seenApps = new Set<string>();
  for (const a of [...coreComponents, ...apps]) {
    if (seenApps.has(a.name)) throw new OptionError('apps', `app "${a.name}" is defined twice (or is a name of the release)`);
    seenApps.add(a.name);
  }

  const hosts = [...(options.ingress?.hosts ?? DEFAULTS.hosts)];
  const tlsProps = options.ingress?.tls;
  const tls = tlsProps
    ? {
        secret: tlsProps.secret ?? DEFAULTS.tls.secret,
        ...(tlsProps.certManagerIssuer !== undefined
          ? { certManager: { issuer: tlsProps.certManagerIssuer, kind: tlsProps.certManagerIssuerKind ?? DEFAULTS.tls.certManagerIssuerKind } }
          : {}),
      }
    : undefined;
  const plainHttp = options.ingress?.plainHttp ?? DEFAULTS.plainHttp;
  if (tls && plainHttp) throw new OptionError('ingress.plainHttp', 'cannot be true with ingress.tls: choose one');
  if (tls?.certManager && hosts.some((h) => h.startsWith('*.'))) {
    throw new OptionError('ingress.hosts', 'cert-manager cannot issue a wildcard host through HTTP-01: give exact host names, or your own --tls-secret');
  }

  const factor = Math.min(3, brokers);
  return {
    profile,
    namespace,
    storageClass: options.storageClass,
    kafka: {
      mode: k.mode ?? DEFAULTS.kafkaMode,
      brokers,
      controllers: k.controllers ?? d.controllers,
      controllerCount: k.controllerCount ?? DEFAULTS.controllerCount,
      storage: k.storage ?? d.storage.kafka,
      resources: k.resources ?? d.resources.kafka,
      clusterId: k.clusterId ?? clusterIdFor(namespace),
      controllerResources: d.resources.controller,
    },
    zookeeper: {
      servers: options.zookeeper?.servers ?? d.zookeeperServers,
      storage: options.zookeeper?.storage ?? d.storage.zookeeper,
      resources: options.zookeeper?.resources ?? d.resources.zookeeper,
    },
    schemaRegistry: {
      replicas: options.schemaRegistry?.replicas ?? d.schemaRegistryReplicas,
      resources: options.schemaRegistry?.resources ?? d.resources.schemaRegistry,
    },
    postgres: {
      database: pg.database ?? DEFAULTS.postgres.database,
      user: pg.user ?? DEFAULTS.postgres.user,
      storage: pg.storage ?? d.storage.postgres,
      resources: pg.resources ?? d.resources.postgres,
      secret: { name: pg.existingSecret ?? DEFAULTS.postgres.secret, password: pg.password, external: pg.existingSecret !== undefined },
    },
    topics,
    ingress: { hosts, tls, plainHttp },
    ngrok: {
      enabled: options.ngrok?.enabled ?? d.ngrok,
      domain: options.ngrok?.domain,
      authtokenSecret: options.ngrok?.authtokenSecret ?? DEFAULTS.ngrokAuthtokenSecret,
    },
    apps,
    core: {
      components: coreComponents,
      sources,
      replicas: d.appReplicas,
      resources: { spring: d.resources.spring, frontend: d.resources.frontend, controller: DEFAULTS.coreController },
    },
    replication: { factor, minInsync: factor >= 3 ? 2 : 1 },
  };
}
