/**
 * The Airy Core release the platform runs, as data: its components (image, kind, ConfigMaps, env, routes), its
 * optional webhook sources and its topics. Read from the release's charts at tag `AIRY_CORE_RELEASE.tag`:
 * `infrastructure/helm-chart/values.yaml`, `templates/components/* /`, `templates/controller/`,
 * `templates/components/ingress.yaml`, `templates/provisioning/kafka-create-topics.yaml` and
 * `backend/components/{facebook,google,twilio}/helm/`. `components/airy-core.ts` renders it.
 */
import { WEBHOOK_SOURCES } from '@airy/cli-kit';

/** How a component's pod is built: a Spring app, an nginx frontend, or the Go controller. */
export type CoreKind = 'spring' | 'frontend' | 'controller' | 'router';

/** One ingress route: a path, matched as a prefix or exactly, optionally rewritten before it reaches the app. */
export interface RouteRule {
  readonly path: string;
  readonly match: 'prefix' | 'exact';
  /** The path the app sees instead of the matched part (the release's nginx `rewrite-target`). */
  readonly rewrite?: string;
}

/** A container env var, as the release sets it: a literal, a pod field or a resource field. */
export type CoreEnv =
  | { readonly name: string; readonly value: string }
  | { readonly name: string; readonly field: string }
  | { readonly name: string; readonly resource: string }
  | { readonly name: string; readonly secretKey: string };

/** One Deployment of the release. */
export interface CoreComponent {
  /** The Deployment's, Service's and (for component ConfigMaps) ConfigMap's name. */
  readonly name: string;
  /** The component (`core.airy.co/component`) it belongs to; the component ConfigMap has this name. */
  readonly component: string;
  /** The image path under the release's registry; the tag is the release's. */
  readonly image: string;
  readonly kind: CoreKind;
  readonly mandatory: boolean;
  /** ConfigMaps whose keys become env, in the release's order. */
  readonly envFrom: readonly string[];
  readonly env?: readonly CoreEnv[];
  readonly args?: readonly string[];
  readonly serviceAccount?: string;
  /** The liveness probe's initial delay. */
  readonly probeDelaySeconds?: number;
  /** An init container waits until Kafka answers (the release's `wait-for-minimum-kafkas.sh`). */
  readonly waitForKafka: boolean;
  readonly routes: readonly RouteRule[];
}

/** The port every release app listens on, and the port its Service exposes. */
export const CORE_PORTS = { spring: 8080, frontend: 80, controller: 8080, router: 6000, service: 80 } as const;

/** The release's shared ConfigMaps. */
export const CORE_CONFIG_MAPS = {
  kafka: 'kafka-config',
  core: 'core-config',
  security: 'security',
  provisioning: 'provisioning-scripts',
  repositories: 'repositories',
} as const;

/** The script the init containers run, from the `provisioning-scripts` ConfigMap. */
export const WAIT_FOR_KAFKA_SCRIPT = 'wait-for-minimum-kafkas.sh';

/** The label the release puts on every object of its components (its controller finds them by it). */
export const CORE_MANAGED_LABEL = { key: 'core.airy.co/managed', value: 'true' } as const;

/**
 * The request that says the release's API is serving: api-admin's `POST /client.config`, which answers 200 only
 * once its Kafka Streams stores run (before that the gateway answers 503 for minutes).
 */
export const CORE_API_READY = { method: 'POST', path: '/client.config', body: '{}', status: 200 } as const;

/** The header the release's probes send, so the apps leave health checks out of their request metrics. */
export const HEALTH_CHECK_HEADER = { name: 'Health-Check', value: 'health-check' } as const;

const prefixes = (...paths: string[]): RouteRule[] => paths.map((path) => ({ path, match: 'prefix' as const }));
/** A frontend mounted under `base`: `/base` and `/base/...` reach it as `/` and `/...`. */
const mounted = (base: string): RouteRule[] => [
  { path: base, match: 'exact', rewrite: '/' },
  { path: `${base}/`, match: 'prefix', rewrite: '/' },
];

const spring = (name: string, image: string, routes: RouteRule[], envFrom = ['security', 'kafka-config', name]) =>
  ({ name, component: name, image, kind: 'spring', mandatory: true, envFrom, waitForKafka: true, routes }) as const;

/** The release's components installer, which the box leaves out (see `PlatformOptions.componentsInstaller`). */
export const COMPONENTS_INSTALLER = 'api-components-installer';

/** The release's mandatory components, in the order of its `values.yaml`, then the controller. */
export const CORE_COMPONENTS: readonly CoreComponent[] = [
  {
    name: 'api-components-installer',
    component: 'api-components-installer',
    image: 'api/components/installer',
    kind: 'spring',
    mandatory: true,
    envFrom: ['security', 'kafka-config'],
    args: [
      '-Djdk.tls.client.protocols=TLSv1.2',
      '-jar',
      'app_springboot.jar',
      '-XshowSettings:vm',
      '-XX:MaxRAMPercentage=70',
      '-XX:-UseCompressedOops',
      '-Dsun.net.inetaddr.ttl=0',
    ],
    env: [
      { name: 'SERVICE_NAME', value: 'api-components-installer' },
      { name: 'KUBERNETES_NAMESPACE', field: 'metadata.namespace' },
      { name: 'CATALOG_URI', value: 'https://github.com/airyhq/catalog.git' },
      { name: 'CATALOG_DIRECTORY', value: '/repo' },
      { name: 'POD_NAMESPACE', field: 'metadata.namespace' },
      { name: 'REQUESTED_CPU', resource: 'requests.cpu' },
      { name: 'LIMIT_CPU', resource: 'limits.cpu' },
      { name: 'LIMIT_MEMORY', resource: 'limits.memory' },
    ],
    serviceAccount: 'airy-admin',
    probeDelaySeconds: 60,
    waitForKafka: true,
    routes: prefixes('/components.list', '/components.install', '/components.uninstall'),
  },
  {
    ...spring(
      'api-admin',
      'api/admin',
      prefixes(
        '/login',
        '/logout',
        '/kafka',
        '/oauth',
        '/client.config',
        '/users',
        '/channels.list',
        '/channels.info',
        '/channels.update',
        '/channels.chatplugin',
        '/webhooks',
        '/tags',
        '/templates',
      ),
      ['kafka-config', 'security', 'core-config', 'api-admin'],
    ),
    env: [
      { name: 'KUBERNETES_NAMESPACE', field: 'metadata.namespace' },
      { name: 'KAFKA_REST_UPSTREAM_HOST', value: 'schema-registry' },
      { name: 'KAFKA_REST_UPSTREAM_PORT', value: '8082' },
      { name: 'KUBERNETES_APP', field: "metadata.labels['app']" },
    ],
  },
  spring('api-communication', 'api/communication', prefixes('/conversations', '/messages', '/metadata.upsert')),
  spring('unread-counter', 'components/unread-counter', prefixes('/conversations.mark-read')),
  spring('api-websocket', 'api/websocket', prefixes('/ws.communication')),
  {
    name: 'frontend-control-center',
    component: 'frontend-control-center',
    image: 'frontend/control-center',
    kind: 'frontend',
    mandatory: true,
    envFrom: ['frontend-control-center'],
    probeDelaySeconds: 30,
    waitForKafka: false,
    // The release's `airy-core-redirect` Ingress sends `/` and `/ui` to the control center's start page.
    routes: [
      ...mounted('/control-center'),
      { path: '/', match: 'exact', rewrite: '/start.html' },
      { path: '/ui', match: 'prefix', rewrite: '/start.html' },
    ],
  },
  {
    name: 'frontend-inbox',
    component: 'frontend-inbox',
    image: 'frontend/inbox',
    kind: 'frontend',
    mandatory: true,
    envFrom: ['frontend-inbox'],
    probeDelaySeconds: 30,
    waitForKafka: false,
    routes: mounted('/inbox'),
  },
  {
    name: 'airy-controller',
    component: 'airy-controller',
    image: 'infrastructure/controller',
    kind: 'controller',
    mandatory: true,
    envFrom: ['security'],
    env: [
      { name: 'LABEL_SELECTOR', value: 'core.airy.co/managed=true' },
      { name: 'NAMESPACE', field: 'metadata.namespace' },
    ],
    serviceAccount: 'airy-controller',
    waitForKafka: false,
    routes: prefixes('/components.get', '/components.update', '/components.delete', '/cluster.'),
  },
];

/** The webhook sources the platform can run (optional components of the release, off by default). */
export const SOURCE_NAMES = ['facebook', 'google', 'twilio'] as const;
/** `facebook`, `google` or `twilio`. */
export type SourceName = (typeof SOURCE_NAMES)[number];

/** The credentials each source reads, env name → key of the source's Secret (named like the component). */
const SOURCE_CREDENTIALS: Record<SourceName, Record<string, string>> = {
  facebook: { FACEBOOK_WEBHOOK_SECRET: 'webhookSecret', FACEBOOK_APP_ID: 'appId', FACEBOOK_APP_SECRET: 'appSecret' },
  google: { GOOGLE_SA_FILE: 'saFile', GOOGLE_PARTNER_KEY: 'partnerKey' },
  twilio: { TWILIO_AUTH_TOKEN: 'authToken', TWILIO_ACCOUNT_SID: 'accountSid' },
};

/** The credentials Secret of a source (keys as in the release's component ConfigMap). */
export function sourceSecret(source: SourceName): { name: string; keys: string[] } {
  // The name is the webhook model's, so every CLI's hint names the Secret the components read.
  const name = WEBHOOK_SOURCES.find((s) => s.source === source)?.secret ?? `sources-${source}`;
  return { name, keys: Object.values(SOURCE_CREDENTIALS[source]) };
}

const SOURCE_ROUTES: Record<SourceName, string[]> = {
  facebook: ['/facebook', '/channels.facebook', '/channels.instagram'],
  google: ['/google', '/channels.google'],
  twilio: ['/twilio', '/channels.twilio'],
};

/** A source's two Deployments: the connector (webhooks, channel API) and the events router. */
export function sourceComponents(source: SourceName): CoreComponent[] {
  const component = `sources-${source}`;
  const credentials = Object.entries(SOURCE_CREDENTIALS[source]).map(([name, key]) => ({ name, secretKey: key }));
  return [
    {
      name: `${component}-connector`,
      component,
      image: `sources/${source}-connector`,
      kind: 'spring',
      mandatory: false,
      envFrom: ['kafka-config', 'security', 'core-config'],
      env: credentials,
      probeDelaySeconds: 120,
      waitForKafka: true,
      routes: prefixes(...SOURCE_ROUTES[source]),
    },
    {
      name: `${component}-events-router`,
      component,
      image: `sources/${source}-events-router`,
      kind: 'router',
      mandatory: false,
      envFrom: ['kafka-config'],
      env: [
        ...(source === 'facebook' ? credentials.filter((c) => c.name === 'FACEBOOK_APP_ID') : credentials),
        ...(source === 'facebook' ? [{ name: 'SERVICE_NAME', value: 'facebook-events-router' }] : []),
      ],
      probeDelaySeconds: 120,
      waitForKafka: true,
      routes: [],
    },
  ];
}

/** The release's compacted topics keep a day of history before compaction, in 10 MiB segments. */
const COMPACTED = { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '86400000', 'segment.bytes': '10485760' };

/** Partitions of every release topic (`provisioning.kafka.partitions`); the apps' joins need them equal. */
export const RELEASE_PARTITIONS = 10;

/** One Kafka topic. */
export interface TopicSpec {
  readonly name: string;
  /** @default 10 (local: 1) */
  readonly partitions?: number;
  /** Topic configs, e.g. `{ "cleanup.policy": "compact" }`. */
  readonly config?: Readonly<Record<string, string>>;
}

/** The release's topics (`kafka-create-topics.yaml`), with their settings. */
export const PLATFORM_TOPICS: readonly TopicSpec[] = [
  { name: 'application.communication.channels' },
  ...['contacts', 'messages', 'metadata', 'read-receipt', 'sources', 'tags', 'templates', 'users', 'webhooks-v0.29.0'].map(
    (t) => ({ name: `application.communication.${t}`, config: COMPACTED }),
  ),
  { name: 'ops.application.components' },
  { name: 'ops.application.logs' },
  ...['facebook', 'google', 'twilio', 'viber', 'whatsapp'].map((s) => ({ name: `source.${s}.events` })),
].map((t) => ({ ...t, partitions: RELEASE_PARTITIONS }));
