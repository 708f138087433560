/**
 * A rendered platform as a consumer works with it: its objects by kind with their Kubernetes types (a change needs
 * no cast), its documents for validation, and objects of the user's own added to it. Pure.
 */
import type { IGateway } from '@kubernetes-models/istio/networking.istio.io/v1/Gateway';
import type { IVirtualService } from '@kubernetes-models/istio/networking.istio.io/v1/VirtualService';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import type { KubeObject } from './components/common.js';
import type { Platform } from './platform.js';
import type { SourceDocument } from './validate.js';

/** The kinds the platform renders, and the type each of its objects has. */
export interface KindTypes {
  readonly ConfigMap: IConfigMap;
  readonly Deployment: IDeployment;
  readonly Gateway: IGateway;
  readonly Job: IJob;
  readonly Namespace: INamespace;
  readonly NetworkPolicy: INetworkPolicy;
  readonly PersistentVolumeClaim: IPersistentVolumeClaim;
  readonly PodDisruptionBudget: IPodDisruptionBudget;
  readonly Secret: ISecret;
  readonly Service: IService;
  readonly StatefulSet: IStatefulSet;
  readonly VirtualService: IVirtualService;
}

/**
 * The platform's objects of one kind, typed, in apply order; `name` picks one by `metadata.name`. They are the
 * platform's own objects, so a change shows in what `renderFiles` writes:
 * `objectsOf(platform, 'Deployment', 'api-admin')[0].spec.replicas = 2`.
 */
export function objectsOf<K extends keyof KindTypes>(platform: Platform, kind: K, name?: string): KindTypes[K][] {
  return platform.components
    .flatMap((c) => c.objects)
    .filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name)) as unknown as KindTypes[K][];
}

/** Every cluster object as a document of its component's file, for `validateDocuments`. */
export function platformDocuments(platform: Platform): SourceDocument[] {
  return platform.components.flatMap((c) => c.objects.map((object, index) => ({ file: c.file, index, object })));
}

/** The file objects of the user's own go into, last in the kustomization (after everything they may need). */
export const EXTRA_FILE = 'extra.yaml';

/**
 * The platform with objects of the user's own added, as one more component (`extra.yaml`, applied last): they go
 * into the kustomization and are validated with the rest. Refused: an object without apiVersion and kind.
 */
export function withExtra(platform: Platform, objects: readonly KubeObject[], file = EXTRA_FILE): Platform {
  if (objects.length === 0) return platform;
  for (const [i, o] of objects.entries()) {
    if (typeof o?.apiVersion !== 'string' || typeof o?.kind !== 'string') throw new TypeError(`extra object ${i}: apiVersion and kind are required`);
  }
  if (platform.components.some((c) => c.file === file)) throw new TypeError(`${file} is a file of the platform already`);
  return { ...platform, components: [...platform.components, { component: 'extra', file, objects: [...objects] }] };
}
