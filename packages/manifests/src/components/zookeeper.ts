/** The ZooKeeper ensemble of Kafka's `zookeeper` mode: a StatefulSet, its headless Service and volumes. */
import type { PlatformConfig } from '../options.js';
import { IMAGES } from '../versions.js';
import { type KubeObject, serviceHost, statefulService } from './common.js';
import { jvmHeap } from './jvm.js';

/** Names and ports of the ZooKeeper component. */
export const ZOOKEEPER = {
  component: 'zookeeper',
  headless: 'zookeeper-headless',
  clientPort: 2181,
  peerPort: 2888,
  electionPort: 3888,
} as const;

/** Every object of the ZooKeeper ensemble; none in KRaft mode. */
export function zookeeper(config: PlatformConfig): KubeObject[] {
  if (config.kafka.mode !== 'zookeeper') return [];
  const { servers, resources, storage } = config.zookeeper;
  const peers = Array.from(
    { length: servers },
    (_, i) =>
      `${ZOOKEEPER.component}-${i}.${serviceHost(config, ZOOKEEPER.headless)}:${ZOOKEEPER.peerPort}:${ZOOKEEPER.electionPort}`,
  ).join(';');
  const ports = [
    { name: 'client', containerPort: ZOOKEEPER.clientPort },
    { name: 'peer', containerPort: ZOOKEEPER.peerPort },
    { name: 'election', containerPort: ZOOKEEPER.electionPort },
  ];
  return statefulService(config, {
    name: ZOOKEEPER.component,
    headless: ZOOKEEPER.headless,
    component: ZOOKEEPER.component,
    replicas: servers,
    storage,
    container: {
      name: 'zookeeper',
      image: IMAGES.zookeeper,
      // ZooKeeper's ids start at 1; a pod's ordinal starts at 0.
      command: [
        'bash',
        '-c',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, run in the pod
        'export ZOOKEEPER_SERVER_ID=$(( ${HOSTNAME##*-} + 1 ))\nexec /etc/confluent/docker/run',
      ],
      env: [
        { name: 'ZOOKEEPER_CLIENT_PORT', value: String(ZOOKEEPER.clientPort) },
        { name: 'ZOOKEEPER_TICK_TIME', value: '2000' },
        { name: 'ZOOKEEPER_INIT_LIMIT', value: '10' },
        { name: 'ZOOKEEPER_SYNC_LIMIT', value: '5' },
        { name: 'ZOOKEEPER_SERVERS', value: peers },
        { name: 'KAFKA_HEAP_OPTS', value: jvmHeap(resources) },
      ],
      ports,
      resources,
      readinessProbe: { tcpSocket: { port: 'client' }, initialDelaySeconds: 5, periodSeconds: 10 },
      livenessProbe: { tcpSocket: { port: 'client' }, initialDelaySeconds: 30, periodSeconds: 20 },
      volumeMounts: [
        { name: 'data', mountPath: '/var/lib/zookeeper/data' },
        { name: 'data', mountPath: '/var/lib/zookeeper/log', subPath: 'log' },
      ],
    },
  });
}
