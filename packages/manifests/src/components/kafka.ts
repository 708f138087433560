/**
 * Kafka brokers as a StatefulSet with a headless Service and one volume per broker. KRaft (controllers combined
 * with the brokers, or a StatefulSet of their own) or ZooKeeper. Replication follows the broker count.
 */
import { Service } from './kinds.js';
import type { IIoK8sApiCoreV1EnvVar as EnvVar } from 'kubernetes-models/v1/EnvVar';
import type { PlatformConfig, ResourceSpec } from '../options.js';
import { IMAGES } from '../versions.js';
import { type KubeObject, labels, meta, serviceHost, statefulService } from './common.js';
import { ZOOKEEPER } from './zookeeper.js';
import { jvmHeap } from './jvm.js';

/** Names and ports of the Kafka component. */
export const KAFKA = {
  component: 'kafka',
  /** The bootstrap Service clients use. */
  service: 'kafka',
  headless: 'kafka-headless',
  controller: 'kafka-controller',
  controllerHeadless: 'kafka-controller-headless',
  port: 9092,
  controllerPort: 9093,
  /** Node ids of separate controllers start here, so they never collide with broker ids. */
  controllerIdBase: 1000,
} as const;

/** The bootstrap address clients connect to. */
export function kafkaBootstrap(config: PlatformConfig): string {
  return `${serviceHost(config, KAFKA.service)}:${KAFKA.port}`;
}

/** The KRaft voters: the brokers themselves (combined) or the controllers. */
function quorumVoters(config: PlatformConfig): string {
  const separate = config.kafka.controllers === 'separate';
  const count = separate ? config.kafka.controllerCount : config.kafka.brokers;
  const set = separate ? KAFKA.controller : KAFKA.component;
  const headless = separate ? KAFKA.controllerHeadless : KAFKA.headless;
  const base = separate ? KAFKA.controllerIdBase : 0;
  return Array.from(
    { length: count },
    (_, i) => `${base + i}@${set}-${i}.${serviceHost(config, headless)}:${KAFKA.controllerPort}`,
  ).join(',');
}

const env = (values: Record<string, string>): EnvVar[] =>
  Object.entries(values).map(([name, value]) => ({ name, value }));

/** The container's command: `lines` (the node id and listeners, set from the pod's host name), then the image's own start. */
const startScript = (lines: string[]) => ['bash', '-c', [...lines, 'exec /etc/confluent/docker/run'].join('\n')];

function kafkaNode(
  config: PlatformConfig,
  opts: { name: string; headless: string; component: string; roles: string; replicas: number; resources: ResourceSpec },
): KubeObject[] {
  const { kafka, replication } = config;
  const isBroker = opts.roles.includes('broker');
  const base = opts.component === KAFKA.controller ? KAFKA.controllerIdBase : 0;
  const fqdn = `\${HOSTNAME}.${serviceHost(config, opts.headless)}`;

  const common: Record<string, string> = {
    KAFKA_HEAP_OPTS: jvmHeap(opts.resources),
    KAFKA_LOG_DIRS: '/var/lib/kafka/data/logs',
    KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    KAFKA_DEFAULT_REPLICATION_FACTOR: String(replication.factor),
    KAFKA_MIN_INSYNC_REPLICAS: String(replication.minInsync),
    KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: String(replication.factor),
    KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: String(replication.factor),
    KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: String(replication.minInsync),
    KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: config.profile === 'local' ? '0' : '3000',
  };
  let script: string[];
  const ports = [];
  if (kafka.mode === 'kraft') {
    const listeners = [
      ...(isBroker ? [`PLAINTEXT://0.0.0.0:${KAFKA.port}`] : []),
      ...(opts.roles.includes('controller') ? [`CONTROLLER://0.0.0.0:${KAFKA.controllerPort}`] : []),
    ];
    Object.assign(common, {
      CLUSTER_ID: kafka.clusterId,
      KAFKA_PROCESS_ROLES: opts.roles,
      KAFKA_CONTROLLER_QUORUM_VOTERS: quorumVoters(config),
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENERS: listeners.join(','),
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      ...(isBroker ? { KAFKA_INTER_BROKER_LISTENER_NAME: 'PLAINTEXT' } : {}),
    });
    script = [
      `export KAFKA_NODE_ID=$(( ${base} + \${HOSTNAME##*-} ))`,
      ...(isBroker ? [`export KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://${fqdn}:${KAFKA.port}`] : []),
    ];
  } else {
    const zk = Array.from(
      { length: config.zookeeper.servers },
      (_, i) => `${ZOOKEEPER.component}-${i}.${serviceHost(config, ZOOKEEPER.headless)}:${ZOOKEEPER.clientPort}`,
    ).join(',');
    Object.assign(common, {
      KAFKA_ZOOKEEPER_CONNECT: zk,
      KAFKA_LISTENERS: `PLAINTEXT://0.0.0.0:${KAFKA.port}`,
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT',
    });
    script = [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, run in the pod
      'export KAFKA_BROKER_ID=${HOSTNAME##*-}',
      `export KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://${fqdn}:${KAFKA.port}`,
    ];
  }
  if (isBroker) ports.push({ name: 'kafka', containerPort: KAFKA.port });
  if (kafka.mode === 'kraft' && opts.roles.includes('controller')) {
    ports.push({ name: 'controller', containerPort: KAFKA.controllerPort });
  }
  const probePort = isBroker ? 'kafka' : 'controller';

  return statefulService(config, {
    name: opts.name,
    headless: opts.headless,
    component: opts.component,
    replicas: opts.replicas,
    storage: kafka.storage,
    terminationGracePeriodSeconds: 60,
    container: {
      name: 'kafka',
      image: IMAGES.kafka,
      command: startScript(script),
      env: env(common),
      ports,
      resources: opts.resources,
      readinessProbe: { tcpSocket: { port: probePort }, initialDelaySeconds: 10, periodSeconds: 10 },
      livenessProbe: { tcpSocket: { port: probePort }, initialDelaySeconds: 60, periodSeconds: 20, failureThreshold: 6 },
      volumeMounts: [{ name: 'data', mountPath: '/var/lib/kafka/data' }],
    },
  });
}

/** Every object of the Kafka component (brokers, separate controllers if any, and the bootstrap Service). */
export function kafka(config: PlatformConfig): KubeObject[] {
  const { kafka: k } = config;
  const separate = k.mode === 'kraft' && k.controllers === 'separate';
  const brokerRoles = k.mode === 'zookeeper' ? 'broker' : separate ? 'broker' : 'broker,controller';
  const bootstrap = Service({
    metadata: meta(config, KAFKA.service, KAFKA.component),
    spec: {
      selector: labels(KAFKA.component).selector,
      ports: [{ name: 'kafka', port: KAFKA.port, targetPort: 'kafka' }],
    },
  });
  return [
    ...(separate
      ? kafkaNode(config, {
          name: KAFKA.controller,
          headless: KAFKA.controllerHeadless,
          component: KAFKA.controller,
          roles: 'controller',
          replicas: k.controllerCount,
          resources: k.controllerResources,
        })
      : []),
    ...kafkaNode(config, {
      name: KAFKA.component,
      headless: KAFKA.headless,
      component: KAFKA.component,
      roles: brokerRoles,
      replicas: k.brokers,
      resources: k.resources,
    }),
    bootstrap,
  ];
}
