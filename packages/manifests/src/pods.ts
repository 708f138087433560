/**
 * Where a workload keeps its pod. Apart from the platform's rendering, so that validation and the escalation
 * checks load none of the components. Pure.
 */
import type { KubeObject } from './components/common.js';

interface PodTemplateSpec {
  containers?: { image?: string; resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }[];
  initContainers?: PodTemplateSpec['containers'];
}

/** The pod spec of a workload object and how many pods run it, or nothing for other kinds. */
export function podSpecOf(object: KubeObject): { spec: PodTemplateSpec; replicas: number } | undefined {
  const spec = object.spec as
    | { replicas?: number; template?: { spec?: PodTemplateSpec }; jobTemplate?: { spec?: { template?: { spec?: PodTemplateSpec } } } }
    | undefined;
  switch (object.kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'ReplicaSet':
      return spec?.template?.spec ? { spec: spec.template.spec, replicas: spec.replicas ?? 1 } : undefined;
    case 'DaemonSet':
    case 'Job':
      return spec?.template?.spec ? { spec: spec.template.spec, replicas: 1 } : undefined;
    case 'CronJob':
      return spec?.jobTemplate?.spec?.template?.spec ? { spec: spec.jobTemplate.spec.template.spec, replicas: 1 } : undefined;
    case 'Pod':
      return object.spec ? { spec: object.spec as PodTemplateSpec, replicas: 1 } : undefined;
    default:
      return undefined;
  }
}
