/**
 * Where a workload keeps its pod. Apart from the platform's rendering, so that validation and the escalation
 * checks load none of the components. Pure.
 */
import type { KubeObject } from './components/common.js';

interface PodTemplateSpec {
  containers?: { image?: string; resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }[];
  initContainers?: PodTemplateSpec['containers'];
}

/** A pod template's metadata: what validate reads of it. */
export interface PodMetadata {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A workload's pod, as {@link podSpecOf} finds it. */
export interface WorkloadPod {
  readonly spec: PodTemplateSpec;
  /** How many pods run it. */
  readonly replicas: number;
  /** Where the pod spec sits in the object (`spec.template.spec`, `spec` for a Pod), for messages. */
  readonly path: string;
  /** The template's metadata (a Pod's own). */
  readonly metadata?: PodMetadata;
}

type Template = { metadata?: PodMetadata; spec?: PodTemplateSpec };

/** The pod of a workload object, or nothing for other kinds. */
export function podSpecOf(object: KubeObject): WorkloadPod | undefined {
  const spec = object.spec as { replicas?: number; template?: Template; jobTemplate?: { spec?: { template?: Template } } } | undefined;
  const of = (template: Template | undefined, path: string, replicas = 1): WorkloadPod | undefined =>
    template?.spec ? { spec: template.spec, replicas, path, ...(template.metadata ? { metadata: template.metadata } : {}) } : undefined;
  switch (object.kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'ReplicaSet':
      return of(spec?.template, 'spec.template.spec', spec?.replicas ?? 1);
    case 'DaemonSet':
    case 'Job':
      return of(spec?.template, 'spec.template.spec');
    case 'CronJob':
      return of(spec?.jobTemplate?.spec?.template, 'spec.jobTemplate.spec.template.spec');
    case 'Pod':
      return of({ metadata: object.metadata as PodMetadata | undefined, spec: object.spec as PodTemplateSpec | undefined }, 'spec');
    default:
      return undefined;
  }
}
