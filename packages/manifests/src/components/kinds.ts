/**
 * The kinds the components build, typed by kubernetes-models' interfaces but built as plain data. The models'
 * classes would load every kind's compiled schema (about 180 modules and ajv) only to set apiVersion and kind:
 * rendering checks nothing with them, and `validateDocuments` loads the schemas of the kinds it meets.
 */
import type { IGateway } from '@kubernetes-models/istio/networking.istio.io/v1/Gateway';
import type { IVirtualService } from '@kubernetes-models/istio/networking.istio.io/v1/VirtualService';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

interface TypeMeta {
  readonly apiVersion: string;
  readonly kind: string;
}

/** Fields left undefined are dropped, at any depth, as the models' constructors drop them. */
function defined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(defined);
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (field !== undefined) out[key] = defined(field);
  return out;
}

/** A builder of one kind: apiVersion and kind first, then the data (as `new Model(data)` orders them). */
function kind<T extends TypeMeta>(apiVersion: T['apiVersion'], kind: T['kind']): (data: Omit<T, keyof TypeMeta>) => T {
  return (data) => defined({ apiVersion, kind, ...data }) as T;
}

export const ConfigMap = kind<IConfigMap>('v1', 'ConfigMap');
export const Deployment = kind<IDeployment>('apps/v1', 'Deployment');
export const Gateway = kind<IGateway>('networking.istio.io/v1', 'Gateway');
export const Job = kind<IJob>('batch/v1', 'Job');
export const Namespace = kind<INamespace>('v1', 'Namespace');
export const NetworkPolicy = kind<INetworkPolicy>('networking.k8s.io/v1', 'NetworkPolicy');
export const PodDisruptionBudget = kind<IPodDisruptionBudget>('policy/v1', 'PodDisruptionBudget');
export const Role = kind<IRole>('rbac.authorization.k8s.io/v1', 'Role');
export const RoleBinding = kind<IRoleBinding>('rbac.authorization.k8s.io/v1', 'RoleBinding');
export const Secret = kind<ISecret>('v1', 'Secret');
export const Service = kind<IService>('v1', 'Service');
export const ServiceAccount = kind<IServiceAccount>('v1', 'ServiceAccount');
export const StatefulSet = kind<IStatefulSet>('apps/v1', 'StatefulSet');
export const VirtualService = kind<IVirtualService>('networking.istio.io/v1', 'VirtualService');
