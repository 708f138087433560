/**
 * Every default of the options: the ones every profile shares, and those that differ by profile. resolve.ts fills
 * them in; types.ts documents them on each option.
 */
import type { Profile, ResourceSpec } from './types.js';

const r = (cpu: string, memory: string, cpuLimit: string, memoryLimit: string): ResourceSpec => ({
  requests: { cpu, memory },
  limits: { cpu: cpuLimit, memory: memoryLimit },
});

/** Defaults every profile shares. */
export const DEFAULTS = {
  profile: 'local' as Profile,
  namespace: 'airy',
  kafkaMode: 'kraft',
  controllerCount: 3,
  postgres: { database: 'airy_core', user: 'airy', secret: 'postgres-credentials' },
  hosts: ['airy.core'],
  tls: { secret: 'airy-core-tls', certManagerIssuerKind: 'ClusterIssuer' },
  plainHttp: false,
  ngrokAuthtokenSecret: 'ngrok',
  healthPath: '/health',
  database: false,
  replaceCoreApps: false,
  componentsInstaller: true,
  /** The release's own sizes for its controller. */
  coreController: r('50m', '32Mi', '50m', '128Mi'),
} as const;

/** Defaults that differ by profile. The local ones fit a 4-CPU / 8-GiB VM (see `LOCAL_VM`). */
export const PROFILE_DEFAULTS = {
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

/** A deterministic KRaft cluster id for a namespace: 16 bytes as base64url. */
export function clusterIdFor(namespace: string): string {
  // FNV-1a over the namespace, stretched to 16 bytes; stable across runs and machines.
  const bytes = new Uint8Array(16);
  let h = 0x811c9dc5;
  for (let i = 0; i < 16; i++) {
    for (const ch of `airy-core/${namespace}/${i}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    bytes[i] = h & 0xff;
  }
  return Buffer.from(bytes).toString('base64url');
}
