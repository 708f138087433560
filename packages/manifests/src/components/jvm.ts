/**
 * The JVM's memory, derived from a container's limits in one place. The Confluent images (Kafka, ZooKeeper, the
 * Schema Registry) take a heap through their own `*_HEAP_OPTS`. The Airy Core release's Spring apps run OpenJDK
 * 11.0.9, which cannot read cgroup v2 limits (the backport came in 11.0.16), and their `-XX:MaxRAMPercentage`
 * comes after `-jar` in the image's CMD, so the JVM ignores it: each one would size its heap from the whole VM.
 * `JAVA_TOOL_OPTIONS` is read by every JVM whatever the CMD says, so the sizes go there.
 */
import type { ResourceSpec } from '../options.js';
import { parseCpu, parseMemory } from '../quantity.js';

const MiB = 2 ** 20;

/** The heap for a Confluent image's `*_HEAP_OPTS`: half the memory limit, so the JVM's other memory fits. */
export function jvmHeap(resources: ResourceSpec): string {
  const heap = Math.floor(parseMemory(resources.limits.memory) / 2 / MiB);
  return `-Xms${heap}m -Xmx${heap}m`;
}

/**
 * The heap of a JVM client run beside a broker in its container (the topics Job, bootstrap's readiness probe):
 * Kafka's tools otherwise inherit the broker's `KAFKA_HEAP_OPTS` and would double the container's heap.
 */
export const KAFKA_CLIENT_HEAP = '-Xmx128m';

/** How a Spring app's memory limit is shared out, in MiB (thread stacks in KiB each). */
export interface SpringMemory {
  readonly limitMiB: number;
  readonly heapMiB: number;
  readonly metaspaceMiB: number;
  readonly codeCacheMiB: number;
  readonly directMiB: number;
  readonly stackKiB: number;
  /**
   * What is left for memory the JVM does not cap: Kafka Streams' RocksDB stores (block cache and memtables,
   * off-heap), thread stacks, GC structures and the C library.
   */
  readonly offHeapMiB: number;
  /** CPUs the JVM sizes its thread pools and GC by (it cannot read the CPU limit either). */
  readonly cpus: number;
  /**
   * Kafka Streams' record cache, on the heap (`KAFKA_CACHE_MAX_BYTES`): the release's default is 1000 MiB, which
   * no heap here holds, so an app would die of `ExitOnOutOfMemoryError` once its stores filled the cache.
   */
  readonly recordCacheMiB: number;
}

/** The least a Kafka Streams app's RocksDB and native memory need beside the capped regions. */
export const SPRING_MIN_OFF_HEAP_MIB = 160;

/** The least heap a release app needs for itself (Spring, requests, Kafka clients) beside the record cache. */
export const SPRING_MIN_WORKING_HEAP_MIB = 192;

/** The memory plan of a release Spring app for its resources: heap 45% of the limit, the rest capped or kept. */
export function springMemory(resources: ResourceSpec): SpringMemory {
  const limitMiB = Math.floor(parseMemory(resources.limits.memory) / MiB);
  const metaspaceMiB = 128;
  const codeCacheMiB = 48;
  const directMiB = 32;
  const heapMiB = Math.floor(limitMiB * 0.45);
  // An eighth of the heap (Kafka Streams' own default is 10 MiB): the rest stays the app's working heap.
  const recordCacheMiB = Math.max(8, Math.floor(heapMiB / 8));
  return {
    limitMiB,
    heapMiB,
    metaspaceMiB,
    codeCacheMiB,
    directMiB,
    stackKiB: 512,
    offHeapMiB: limitMiB - heapMiB - metaspaceMiB - codeCacheMiB - directMiB,
    cpus: Math.max(1, Math.ceil(parseCpu(resources.limits.cpu) / 1000)),
    recordCacheMiB,
  };
}

/** The `JAVA_TOOL_OPTIONS` of a release Spring app: every JVM memory region it can cap, and its CPUs. */
export function springJavaToolOptions(resources: ResourceSpec): string {
  const m = springMemory(resources);
  return [
    `-Xms${m.heapMiB}m`,
    `-Xmx${m.heapMiB}m`,
    `-XX:MaxMetaspaceSize=${m.metaspaceMiB}m`,
    `-XX:ReservedCodeCacheSize=${m.codeCacheMiB}m`,
    `-XX:MaxDirectMemorySize=${m.directMiB}m`,
    `-Xss${m.stackKiB}k`,
    `-XX:ActiveProcessorCount=${m.cpus}`,
    '-XX:+ExitOnOutOfMemoryError',
  ].join(' ');
}

/** The release's Kafka Streams record cache for a Spring app, in bytes, as Spring reads it (`kafka.cache.max.bytes`). */
export function springRecordCacheBytes(resources: ResourceSpec): number {
  return springMemory(resources).recordCacheMiB * MiB;
}
