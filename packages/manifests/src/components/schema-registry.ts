/** The Confluent Schema Registry: a Deployment and its Service on 8081, pointed at the Kafka bootstrap Service. */
import { Deployment, Service } from './kinds.js';
import type { PlatformConfig } from '../options.js';
import { IMAGES } from '../versions.js';
import {
  disruptionBudget,
  type KubeObject,
  labels,
  meta,
  podSecurity,
  rolloutStrategy,
  secureContainer,
  serviceHost,
  spread,
} from './common.js';
import { kafkaBootstrap } from './kafka.js';
import { jvmHeap } from './jvm.js';

/** Names and ports of the Schema Registry component. */
export const SCHEMA_REGISTRY = { component: 'schema-registry', service: 'schema-registry', port: 8081 } as const;

/** Every object of the Schema Registry. */
export function schemaRegistry(config: PlatformConfig): KubeObject[] {
  const { replicas, resources } = config.schemaRegistry;
  const sel = labels(SCHEMA_REGISTRY.component).selector;
  const probe = { httpGet: { path: '/subjects', port: 'http' } };
  return [
    Deployment({
      metadata: meta(config, SCHEMA_REGISTRY.component, SCHEMA_REGISTRY.component),
      spec: {
        replicas,
        selector: { matchLabels: sel },
        strategy: rolloutStrategy(config, replicas),
        template: {
          metadata: { labels: labels(SCHEMA_REGISTRY.component).all },
          spec: {
            securityContext: podSecurity(),
            affinity: spread(config, SCHEMA_REGISTRY.component, false),
            enableServiceLinks: false,
            containers: [
              secureContainer({
                name: 'schema-registry',
                image: IMAGES.schemaRegistry,
                env: [
                  // The host name other replicas reach this one by, for leader forwarding.
                  { name: 'SCHEMA_REGISTRY_HOST_NAME', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                  { name: 'SCHEMA_REGISTRY_LISTENERS', value: `http://0.0.0.0:${SCHEMA_REGISTRY.port}` },
                  { name: 'SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS', value: `PLAINTEXT://${kafkaBootstrap(config)}` },
                  {
                    name: 'SCHEMA_REGISTRY_KAFKASTORE_TOPIC_REPLICATION_FACTOR',
                    value: String(config.replication.factor),
                  },
                  { name: 'SCHEMA_REGISTRY_HEAP_OPTS', value: jvmHeap(resources) },
                ],
                ports: [{ name: 'http', containerPort: SCHEMA_REGISTRY.port }],
                resources,
                readinessProbe: { ...probe, initialDelaySeconds: 10, periodSeconds: 10 },
                livenessProbe: { ...probe, initialDelaySeconds: 60, periodSeconds: 20, failureThreshold: 6 },
              }),
            ],
          },
        },
      },
    }),
    Service({
      metadata: meta(config, SCHEMA_REGISTRY.service, SCHEMA_REGISTRY.component),
      spec: { selector: sel, ports: [{ name: 'http', port: SCHEMA_REGISTRY.port, targetPort: 'http' }] },
    }),
    ...disruptionBudget(config, SCHEMA_REGISTRY.component, replicas),
  ];
}

/** The Schema Registry URL clients use. */
export function schemaRegistryUrl(config: PlatformConfig): string {
  return `http://${serviceHost(config, SCHEMA_REGISTRY.service)}:${SCHEMA_REGISTRY.port}`;
}
