/**
 * The order the platform starts and stops in, so Kafka never has to recover from an unclean stop: data stores
 * first (PostgreSQL, ZooKeeper), then Kafka, then the Schema Registry, then the apps; stopping is the reverse.
 * Derived from the rendered platform. The box's provisioning waits for each tier's rollout before the next at
 * boot, and `airy-lifecycle stop` (run by bootstrap's Vagrantfile before every halt) scales down tier by tier.
 */
import { KAFKA } from './components/kafka.js';
import { POSTGRES } from './components/postgres.js';
import { SCHEMA_REGISTRY } from './components/schema-registry.js';
import { ZOOKEEPER } from './components/zookeeper.js';
import type { Platform } from './platform.js';

/** A Deployment or StatefulSet, the file it is rendered into, and the name its pods are labelled with. */
export interface TierWorkload {
  readonly kind: 'deployment' | 'statefulset';
  readonly name: string;
  readonly file: string;
  /** The pods' `app.kubernetes.io/name`. */
  readonly component: string;
}

/** One step of the order. */
export interface Tier {
  readonly name: 'stores' | 'kafka' | 'schema-registry' | 'apps';
  readonly workloads: readonly TierWorkload[];
}

const TIER_OF: Record<string, Tier['name']> = {
  [POSTGRES.component]: 'stores',
  [ZOOKEEPER.component]: 'stores',
  [KAFKA.component]: 'kafka',
  [KAFKA.controller]: 'kafka',
  [SCHEMA_REGISTRY.component]: 'schema-registry',
};
const ORDER: Tier['name'][] = ['stores', 'kafka', 'schema-registry', 'apps'];

/** The tiers in start order (stop is the reverse); empty tiers are left out. Pure. */
export function lifecycleTiers(platform: Platform): Tier[] {
  const tiers = new Map<Tier['name'], TierWorkload[]>(ORDER.map((t) => [t, []]));
  for (const c of platform.components) {
    for (const o of c.objects) {
      if (o.kind !== 'Deployment' && o.kind !== 'StatefulSet') continue;
      const component = o.metadata?.labels?.['app.kubernetes.io/name'] ?? '';
      const tier = TIER_OF[component] ?? 'apps';
      tiers.get(tier)?.push({ kind: o.kind === 'Deployment' ? 'deployment' : 'statefulset', name: o.metadata?.name ?? '', file: c.file, component });
    }
  }
  return ORDER.map((name) => ({ name, workloads: tiers.get(name) ?? [] })).filter((t) => t.workloads.length > 0);
}

/**
 * The tiers as one shell word for the box's env file: tiers in start order separated by `;`, workloads by `,`,
 * each `file:kind/name:component`.
 */
export function tiersEnv(tiers: readonly Tier[]): string {
  return tiers.map((t) => t.workloads.map((w) => `${w.file}:${w.kind}/${w.name}:${w.component}`).join(',')).join(';');
}

/** A Job that must have completed before the files after its own are applied (the topics the apps read). */
export interface LifecycleJob {
  readonly file: string;
  /** The Job's pods' and its own `app.kubernetes.io/name`. */
  readonly component: string;
}

/**
 * The platform's Jobs, each with its file. At every boot the box deletes a Job of the file before applying it, so
 * it runs again (it is idempotent; whether its work exists after a restart is not left to its TTL), and waits for
 * it to complete before the next file: Kafka Streams apps go to ERROR when a source topic is missing. Pure.
 */
export function lifecycleJobs(platform: Platform): LifecycleJob[] {
  return platform.components.flatMap((c) =>
    c.objects.filter((o) => o.kind === 'Job').map((o) => ({ file: c.file, component: o.metadata?.labels?.['app.kubernetes.io/name'] ?? '' })),
  );
}

/** The Jobs as one shell word for the box's env file: `file:component`, separated by `,`. */
export function jobsEnv(jobs: readonly LifecycleJob[]): string {
  return jobs.map((j) => `${j.file}:${j.component}`).join(',');
}
