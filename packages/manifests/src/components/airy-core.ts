/**
 * The Airy Core release's components (see `airy-core.ts` for the data): their shared ConfigMaps, the init script
 * that waits for Kafka, the controller's and installer's accounts, and a Deployment, Service and component
 * ConfigMap each, labelled as the release labels them (its controller finds components by those labels).
 */
import { createHash } from 'node:crypto';
import { ConfigMap, Deployment, Role, RoleBinding, Service, ServiceAccount } from './kinds.js';
import type { IIoK8sApiCoreV1EnvVar as EnvVar } from 'kubernetes-models/v1/EnvVar';
import {
  CORE_CONFIG_MAPS,
  CORE_MANAGED_LABEL,
  CORE_PORTS,
  type CoreComponent,
  type CoreEnv,
  HEALTH_CHECK_HEADER,
  sourceSecret,
  WAIT_FOR_KAFKA_SCRIPT,
} from '../airy-core.js';
import type { PlatformConfig, ResourceSpec } from '../options.js';
import { AIRY_CORE_RELEASE, IMAGES } from '../versions.js';
import {
  disruptionBudget,
  EXTERNAL_SECRETS_ANNOTATION,
  type KubeObject,
  labels,
  meta,
  podSecurity,
  rolloutStrategy,
  secureContainer,
  serviceHost,
  spread,
} from './common.js';
import { springJavaToolOptions, springRecordCacheBytes } from './jvm.js';
import { kafkaBootstrap } from './kafka.js';
import { schemaRegistryUrl } from './schema-registry.js';
import { ZOOKEEPER } from './zookeeper.js';

/** The image of a release component, at the release's tag. */
export function coreImage(component: CoreComponent): string {
  return `${AIRY_CORE_RELEASE.registry}/${component.image}:${AIRY_CORE_RELEASE.tag}`;
}

/** The port a component's container listens on. */
export function corePort(component: CoreComponent): number {
  return CORE_PORTS[component.kind];
}

/** The release's labels on a component's objects (`core.airy.co/*`), beside ours. */
function releaseLabels(component: CoreComponent): Record<string, string> {
  return {
    [CORE_MANAGED_LABEL.key]: CORE_MANAGED_LABEL.value,
    'core.airy.co/mandatory': String(component.mandatory),
    'core.airy.co/component': component.component,
  };
}

/** A stable id of the installation, from the namespace (the release draws a random one at each install). */
function coreId(config: PlatformConfig): string {
  return createHash('sha256').update(`airy-core/${config.namespace}`).digest('hex').slice(0, 10);
}

/**
 * Waits until enough Kafka brokers accept connections. The release's script of the same name and contract:
 * `KAFKA_BROKERS` (comma-separated host:port), `REPLICAS` (default 1), the delay in seconds as `$1`.
 */
export const WAIT_FOR_KAFKA = `#!/bin/sh
brokers=$(echo "\${KAFKA_BROKERS:-kafka:9092}" | tr ',' ' ')
wanted=\${REPLICAS:-1}
delay=\${1:-10}
while :; do
  up=0
  for broker in $brokers; do
    nc -w 1 -z "\${broker%:*}" "\${broker##*:}" 2>/dev/null && up=$((up + 1))
  done
  echo "Available brokers: $up, required brokers: $wanted"
  [ "$up" -ge "$wanted" ] && exit 0
  sleep "$delay"
done
`;

/** The release's shared ConfigMaps: Kafka, core settings, security, provisioning scripts, chart repositories. */
function sharedConfigMaps(config: PlatformConfig): KubeObject[] {
  const host = config.ingress.hosts[0] as string;
  const cm = (name: string, data: Record<string, string>) => ConfigMap({ metadata: meta(config, name, 'airy-core'), data });
  return [
    cm(CORE_CONFIG_MAPS.kafka, {
      KAFKA_BROKERS: kafkaBootstrap(config),
      KAFKA_MINIMUM_REPLICAS: String(config.replication.minInsync),
      ...(config.kafka.mode === 'zookeeper' ? { ZOOKEEPER: `${serviceHost(config, ZOOKEEPER.headless)}:${ZOOKEEPER.clientPort}` } : {}),
      KAFKA_SCHEMA_REGISTRY_URL: schemaRegistryUrl(config),
      KAFKA_COMMIT_INTERVAL_MS: '1000',
    }),
    cm(CORE_CONFIG_MAPS.core, {
      APP_IMAGE_TAG: AIRY_CORE_RELEASE.tag,
      CORE_ID: coreId(config),
      // The release reports usage to Segment by default; a box on a laptop (and offline) does not.
      SEGMENT_ANALYTICS_ENABLED: 'false',
      HOST: `${config.ingress.tls ? 'https' : 'http'}://${host}`,
      // The release also puts a random CHATPLUGIN_JWT_SECRET here; only the chat plugin (not rendered) reads it.
    }),
    // Without a systemToken the release's API is open, as in its own local install; the VM is reachable from the
    // host only (private network, forwarded ports on 127.0.0.1).
    cm(CORE_CONFIG_MAPS.security, {}),
    cm(CORE_CONFIG_MAPS.provisioning, { [WAIT_FOR_KAFKA_SCRIPT]: WAIT_FOR_KAFKA }),
    cm(CORE_CONFIG_MAPS.repositories, {
      'repositories.json': `${JSON.stringify({ repositories: [{ name: 'airy-core', url: 'https://helm.airy.co' }] }, null, 2)}\n`,
    }),
  ];
}

/**
 * The accounts: the controller's Role as in the release. The installer installs components' charts into the
 * namespace; the release binds it to `cluster-admin`, here it gets the built-in `admin` role in the namespace only.
 */
function accounts(config: PlatformConfig): KubeObject[] {
  const names = new Set(config.core.components.map((c) => c.serviceAccount).filter(Boolean));
  const out: KubeObject[] = [];
  if (names.has('airy-admin')) {
    out.push(
      ServiceAccount({ metadata: meta(config, 'airy-admin', 'api-components-installer') }),
      RoleBinding({
        metadata: meta(config, 'airy-admin', 'api-components-installer'),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
        subjects: [{ kind: 'ServiceAccount', name: 'airy-admin', namespace: config.namespace }],
      }),
    );
  }
  if (names.has('airy-controller')) {
    const all = ['create', 'get', 'watch', 'update', 'list', 'patch', 'delete'];
    out.push(
      ServiceAccount({ metadata: meta(config, 'airy-controller', 'airy-controller'), automountServiceAccountToken: true }),
      Role({
        metadata: meta(config, 'airy-controller', 'airy-controller'),
        rules: [
          { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: all },
          { apiGroups: [''], resources: ['pods', 'configmaps', 'services', 'secrets'], verbs: all },
          { apiGroups: ['extensions', 'apps'], resources: ['deployments', 'statefulsets'], verbs: all },
        ],
      }),
      RoleBinding({
        metadata: meta(config, 'airy-controller', 'airy-controller'),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'airy-controller' },
        subjects: [{ kind: 'ServiceAccount', name: 'airy-controller', namespace: config.namespace }],
      }),
    );
  }
  return out;
}

function envOf(component: CoreComponent, env: readonly CoreEnv[]): EnvVar[] {
  return env.map((e) => {
    if ('value' in e) return { name: e.name, value: e.value };
    if ('field' in e) return { name: e.name, valueFrom: { fieldRef: { fieldPath: e.field } } };
    if ('resource' in e) return { name: e.name, valueFrom: { resourceFieldRef: { containerName: 'app', resource: e.resource } } };
    return { name: e.name, valueFrom: { secretKeyRef: { name: sourceSecret(sourceOf(component)).name, key: e.secretKey } } };
  });
}

const sourceOf = (component: CoreComponent) => component.component.replace(/^sources-/, '') as 'facebook';

function resourcesOf(config: PlatformConfig, component: CoreComponent): ResourceSpec {
  const { spring, frontend, controller } = config.core.resources;
  return component.kind === 'frontend' ? frontend : component.kind === 'controller' ? controller : spring;
}

function probesOf(component: CoreComponent) {
  if (component.kind === 'controller') {
    // Ours: the release's controller has no probes; its API port answering is the least a probe can ask.
    const tcpSocket = { port: CORE_PORTS.controller };
    return {
      livenessProbe: { tcpSocket, initialDelaySeconds: 30, periodSeconds: 20 },
      readinessProbe: { tcpSocket, initialDelaySeconds: 5, periodSeconds: 10 },
    };
  }
  if (component.kind === 'router') {
    // The release probes the events router's port 6000; readiness on the same port is ours.
    const tcpSocket = { port: CORE_PORTS.router };
    return {
      livenessProbe: { tcpSocket, initialDelaySeconds: 120, periodSeconds: 10, failureThreshold: 3 },
      readinessProbe: { tcpSocket, initialDelaySeconds: 20, periodSeconds: 10 },
    };
  }
  const path = component.kind === 'frontend' ? '/health' : '/actuator/health';
  const httpGet = { path, port: corePort(component), httpHeaders: [{ ...HEALTH_CHECK_HEADER }] };
  const delay = component.probeDelaySeconds ?? 120;
  return {
    livenessProbe: { httpGet, initialDelaySeconds: delay, periodSeconds: 10, failureThreshold: 3 },
    // Ours: the release has no readiness probe, so its ingress routes to apps still starting.
    readinessProbe: { httpGet, initialDelaySeconds: Math.min(delay, 20), periodSeconds: 10, failureThreshold: 3 },
  };
}

/** Whether a release component runs on the JVM: everything but the nginx frontends and the Go controller. */
export const isJava = (component: CoreComponent) => component.kind === 'spring' || component.kind === 'router';

/** The release's frontends are nginx started as root, binding :80 and switching to the `nginx` user. */
const NGINX_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'SETGID', 'SETUID', 'NET_BIND_SERVICE'];

/** One release component: Deployment, Service (port 80) and, for the component's first Deployment, its ConfigMap. */
function coreComponent(config: PlatformConfig, component: CoreComponent, first: boolean): KubeObject[] {
  const release = releaseLabels(component);
  const sel = labels(component.name).selector;
  const port = corePort(component);
  const replicas = component.kind === 'controller' || component.serviceAccount ? 1 : config.core.replicas;
  const frontend = component.kind === 'frontend';
  const secrets = component.env?.some((e) => 'secretKey' in e) ? sourceSecret(sourceOf(component)).name : undefined;
  const volumes = [
    ...(component.waitForKafka ? [{ name: 'provisioning-scripts', configMap: { name: CORE_CONFIG_MAPS.provisioning } }] : []),
    ...(component.kind === 'controller' ? [{ name: 'repositories', configMap: { name: CORE_CONFIG_MAPS.repositories } }] : []),
    // The installer clones the component catalog to /repo; a volume keeps the root filesystem the non-root user's.
    ...(component.serviceAccount === 'airy-admin' ? [{ name: 'catalog', emptyDir: {} }] : []),
  ];
  const mounts = [
    ...(component.kind === 'controller' ? [{ name: 'repositories', mountPath: '/repositories.json', subPath: 'repositories.json' }] : []),
    ...(component.serviceAccount === 'airy-admin' ? [{ name: 'catalog', mountPath: '/repo' }] : []),
  ];
  const resources = resourcesOf(config, component);
  // The release's Java apps (Spring and the sources' Kafka Streams routers) get their JVM's sizes from their
  // limits (see jvm.ts), after the release's own env.
  const env = [
    ...(component.env ? envOf(component, component.env) : []),
    ...(isJava(component)
      ? [
          { name: 'JAVA_TOOL_OPTIONS', value: springJavaToolOptions(resources) },
          // The release's Kafka Streams apps default their record cache to 1000 MiB of heap; sized from the heap.
          { name: 'KAFKA_CACHE_MAX_BYTES', value: String(springRecordCacheBytes(resources)) },
        ]
      : []),
  ];
  const objects: KubeObject[] = [];
  if (first) {
    objects.push(
      ConfigMap({
        metadata: meta(config, component.component, component.component, {
          labels: { ...labels(component.component).all, ...release },
          annotations: { 'core.airy.co/enabled': 'true' },
        }),
      }),
    );
  }
  objects.push(
    Deployment({
      metadata: meta(config, component.name, component.name, { labels: { ...labels(component.name).all, ...release, app: component.name } }),
      spec: {
        replicas,
        selector: { matchLabels: sel },
        // The controller and the installer run once (replicas above): never two at a time.
        strategy: rolloutStrategy(config, replicas, replicas === 1 && (component.kind === 'controller' || Boolean(component.serviceAccount))),
        template: {
          metadata: {
            labels: { ...labels(component.name).all, app: component.name },
            ...(secrets ? { annotations: { [EXTERNAL_SECRETS_ANNOTATION]: secrets } } : {}),
          },
          spec: {
            securityContext: frontend ? { seccompProfile: { type: 'RuntimeDefault' } } : podSecurity(),
            affinity: spread(config, component.name, false),
            enableServiceLinks: false,
            ...(component.serviceAccount ? { serviceAccountName: component.serviceAccount } : {}),
            ...(component.waitForKafka
              ? {
                  initContainers: [
                    secureContainer({
                      name: 'wait',
                      image: IMAGES.busybox,
                      command: ['/bin/sh', `/opt/provisioning/${WAIT_FOR_KAFKA_SCRIPT}`],
                      envFrom: [{ configMapRef: { name: CORE_CONFIG_MAPS.kafka } }],
                      resources: { requests: { cpu: '10m', memory: '8Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
                      volumeMounts: [{ name: 'provisioning-scripts', mountPath: '/opt/provisioning' }],
                    }),
                  ],
                }
              : {}),
            containers: [
              secureContainer({
                name: 'app',
                image: coreImage(component),
                ...(component.args ? { args: [...component.args] } : {}),
                envFrom: component.envFrom.map((name) => ({ configMapRef: { name } })),
                ...(env.length ? { env } : {}),
                ports: [{ name: 'http', containerPort: port }],
                resources,
                ...probesOf(component),
                ...(mounts.length ? { volumeMounts: mounts } : {}),
                ...(frontend
                  ? { securityContext: { runAsNonRoot: false, capabilities: { drop: ['ALL'], add: NGINX_CAPABILITIES } } }
                  : {}),
              }),
            ],
            ...(volumes.length ? { volumes } : {}),
          },
        },
      },
    }),
    Service({
      metadata: meta(config, component.name, component.name),
      spec: { selector: sel, ports: [{ name: 'http', port: CORE_PORTS.service, targetPort: 'http' }] },
    }),
    ...disruptionBudget(config, component.name, replicas),
  );
  return objects;
}

/** Every object of the release's components; nothing when they are left out. */
export function airyCore(config: PlatformConfig): KubeObject[] {
  if (config.core.components.length === 0) return [];
  const seen = new Set<string>();
  return [
    ...sharedConfigMaps(config),
    ...accounts(config),
    ...config.core.components.flatMap((c) => {
      const first = !seen.has(c.component);
      seen.add(c.component);
      return coreComponent(config, c, first);
    }),
  ];
}
