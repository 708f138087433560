/** The platform's namespace, and NetworkPolicies so that only pods of that namespace reach its data stores. */
import { Namespace, NetworkPolicy } from './kinds.js';
import type { PlatformConfig } from '../options.js';
import { type KubeObject, labels, meta } from './common.js';
import { KAFKA } from './kafka.js';
import { POSTGRES } from './postgres.js';
import { SCHEMA_REGISTRY } from './schema-registry.js';
import { ZOOKEEPER } from './zookeeper.js';

/** The namespace every platform object lives in. */
export function namespace(config: PlatformConfig): KubeObject[] {
  return [Namespace({ metadata: { name: config.namespace, labels: labels('namespace').all } })];
}

/** Components only the namespace's own pods may reach. */
export function protectedComponents(config: PlatformConfig): string[] {
  return [
    KAFKA.component,
    ...(config.kafka.mode === 'kraft' && config.kafka.controllers === 'separate' ? [KAFKA.controller] : []),
    ...(config.kafka.mode === 'zookeeper' ? [ZOOKEEPER.component] : []),
    SCHEMA_REGISTRY.component,
    POSTGRES.component,
  ];
}

/** One NetworkPolicy per protected component: ingress only from pods in the same namespace. */
export function networkPolicies(config: PlatformConfig): KubeObject[] {
  return protectedComponents(config).map(
    (component) =>
      NetworkPolicy({
        metadata: meta(config, `${component}-namespace-only`, component),
        spec: {
          podSelector: { matchLabels: labels(component).selector },
          policyTypes: ['Ingress'],
          ingress: [{ from: [{ podSelector: {} }] }],
        },
      }),
  );
}
