/** Building blocks every component shares: labels, secure container defaults, volumes, spreading. */
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IIoK8sApiCoreV1Affinity as Affinity } from 'kubernetes-models/v1/Affinity';
import type { IIoK8sApiCoreV1Container as Container } from 'kubernetes-models/v1/Container';
import type { IIoK8sApiCoreV1PersistentVolumeClaim as PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { IIoK8sApiCoreV1PodSecurityContext as PodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import { PodDisruptionBudget, Service, StatefulSet } from './kinds.js';
import type { PlatformConfig, ResourceSpec } from '../options.js';

/** Kubernetes' object metadata, as the Kubernetes models type it. */
export type ObjectMeta = NonNullable<IDeployment['metadata']>;

/** Any rendered Kubernetes object. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: ObjectMeta;
  readonly spec?: unknown;
  /** Secrets and ConfigMaps. */
  readonly data?: unknown;
  readonly stringData?: unknown;
  readonly binaryData?: unknown;
}

/** The annotation that names Secrets the platform reads but does not render (created by you or the installer). */
export const EXTERNAL_SECRETS_ANNOTATION = 'airy.co/external-secrets';

/** Labels of every object of a component; `selector` is the subset that selects its pods. */
export function labels(component: string, partOf = 'airy-core') {
  const selector = { 'app.kubernetes.io/name': component, 'app.kubernetes.io/part-of': partOf };
  return { selector, all: { ...selector, 'app.kubernetes.io/managed-by': 'airy-manifests' } };
}

/** Metadata of a namespaced object of a component. */
export function meta(config: PlatformConfig, name: string, component: string, extra: Partial<ObjectMeta> = {}): ObjectMeta {
  return { name, namespace: config.namespace, labels: labels(component).all, ...extra };
}

/** The user every container runs as, where the image allows it (Confluent images: appuser 1000). */
export const NON_ROOT_USER = 1000;

/** Pod security: non-root, a seccomp profile, volumes owned by the group. */
export function podSecurity(user = NON_ROOT_USER): PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: user,
    runAsGroup: user,
    fsGroup: user,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** A container with secure defaults: no privilege escalation, all capabilities dropped, resources set. */
export function secureContainer(container: Container & { resources: ResourceSpec }): Container {
  return {
    imagePullPolicy: 'IfNotPresent',
    ...container,
    resources: { requests: { ...container.resources.requests }, limits: { ...container.resources.limits } },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      runAsNonRoot: true,
      ...container.securityContext,
    },
  };
}

/** A volume claim template of `size`, in the configured StorageClass. */
export function volumeClaim(config: PlatformConfig, name: string, size: string): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(config.storageClass ? { storageClassName: config.storageClass } : {}),
      resources: { requests: { storage: size } },
    },
  };
}

/**
 * Spreads a component's pods: on separate nodes in production (required when `strict`), and no rule locally,
 * where there is one node.
 */
export function spread(config: PlatformConfig, component: string, strict: boolean): Affinity | undefined {
  if (config.profile !== 'production') return undefined;
  const term = { labelSelector: { matchLabels: labels(component).selector }, topologyKey: 'kubernetes.io/hostname' };
  return {
    podAntiAffinity: strict
      ? { requiredDuringSchedulingIgnoredDuringExecution: [term] }
      : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] },
  };
}

/** How a Deployment replaces its pods. */
export type RolloutStrategy = NonNullable<NonNullable<IDeployment['spec']>['strategy']>;

/**
 * A Deployment's rollout strategy, chosen so that its `Available` condition means its pods are ready. Kubernetes
 * counts a Deployment Available when `available >= replicas - maxUnavailable`, and for `Recreate` maxUnavailable
 * is 0: with one replica and `maxUnavailable: 1` (the release's strategy) it is Available with no pod ready.
 * - `Recreate` for a `singleton` (a pod that must never run twice: a controller without leader election, an ngrok
 *   agent holding a domain) and on the local profile's one node, where an upgrade rolls every Deployment at once
 *   and a surge would start a second JVM beside each of the first: no room is needed, and Available means ready.
 * - A surge of one with none unavailable for a single replica elsewhere: the new pod is ready before the old goes.
 * - A surge of one and one unavailable with more replicas, as the release has it; the disruption budget agrees.
 */
export function rolloutStrategy(config: PlatformConfig, replicas: number, singleton = false): RolloutStrategy {
  if (singleton || config.profile === 'local') return { type: 'Recreate' };
  return { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: replicas > 1 ? 1 : 0 } };
}

/** A PodDisruptionBudget allowing one pod down at a time; production only, and only with more than one pod. */
export function disruptionBudget(config: PlatformConfig, component: string, replicas: number): KubeObject[] {
  if (config.profile !== 'production' || replicas < 2) return [];
  return [
    PodDisruptionBudget({
      metadata: meta(config, component, component),
      spec: { maxUnavailable: 1, selector: { matchLabels: labels(component).selector } },
    }),
  ];
}

/** The cluster-local DNS name of a Service. */
export function serviceHost(config: PlatformConfig, service: string): string {
  return `${service}.${config.namespace}.svc.cluster.local`;
}

/** Plain data of a model or object (drops undefined fields), ready for YAML. */
export function plain(object: KubeObject): KubeObject {
  return JSON.parse(JSON.stringify(object)) as KubeObject;
}

/** What makes one stateful component: its names, size, pod and volume. */
export interface StatefulServiceProps {
  /** The StatefulSet's name. */
  readonly name: string;
  /** The headless Service that gives each pod its DNS name. */
  readonly headless: string;
  /** The component label, shared by the Service, the pods and the disruption budget. */
  readonly component: string;
  readonly replicas: number;
  /** The one container; its ports are the headless Service's ports, by name. */
  readonly container: Container & { readonly resources: ResourceSpec; readonly ports: readonly { readonly name: string; readonly containerPort: number }[] };
  /** The size of the `data` volume each pod gets. */
  readonly storage: string;
  /** @default the pod's default (30 s) */
  readonly terminationGracePeriodSeconds?: number;
}

/**
 * A stateful component: a headless Service (addresses published before readiness, so peers can find each other),
 * a StatefulSet started in parallel, spread across nodes, with a `data` volume per pod, and its disruption budget.
 * Kafka's nodes and ZooKeeper are made with it.
 */
export function statefulService(config: PlatformConfig, props: StatefulServiceProps): KubeObject[] {
  const sel = labels(props.component).selector;
  return [
    Service({
      metadata: meta(config, props.headless, props.component),
      spec: {
        clusterIP: 'None',
        publishNotReadyAddresses: true,
        selector: sel,
        ports: props.container.ports.map((p) => ({ name: p.name, port: p.containerPort, targetPort: p.name })),
      },
    }),
    StatefulSet({
      metadata: meta(config, props.name, props.component),
      spec: {
        serviceName: props.headless,
        replicas: props.replicas,
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: sel },
        template: {
          metadata: { labels: labels(props.component).all },
          spec: {
            securityContext: podSecurity(),
            affinity: spread(config, props.component, true),
            ...(props.terminationGracePeriodSeconds ? { terminationGracePeriodSeconds: props.terminationGracePeriodSeconds } : {}),
            enableServiceLinks: false,
            containers: [secureContainer({ ...props.container, ports: [...props.container.ports] })],
          },
        },
        volumeClaimTemplates: [volumeClaim(config, 'data', props.storage)],
      },
    }),
    ...disruptionBudget(config, props.component, props.replicas),
  ];
}
