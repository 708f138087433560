/**
 * Validation of any set of manifests: the Kubernetes and Istio schemas, plus the cross-resource checks schema
 * validators cannot make. Pure: documents in, problems out (loading files lives in files.ts).
 */
import { EXTERNAL_SECRETS_ANNOTATION, type KubeObject } from './components/common.js';
import { isDns1035Label, isDnsLabel, isDnsSubdomain, unpinnedImage } from './names.js';
import { podSpecOf } from './pods.js';
import { schemaCheck } from './schemas.js';

/** One YAML document and where it came from. */
export interface SourceDocument {
  readonly file: string;
  /** 0-based position of the document in its file. */
  readonly index: number;
  readonly object: KubeObject;
}

/** One problem, printed as `file:index:path: message`. */
export interface Problem {
  readonly file: string;
  readonly index: number;
  readonly path: string;
  readonly message: string;
}

/** What validation found: problems, and notes (e.g. kinds it has no schema for). */
export interface ValidationReport {
  readonly problems: Problem[];
  readonly notes: string[];
}

/** `file:index:path: message`. */
export function formatProblem(p: Problem): string {
  return `${p.file}:${p.index}:${p.path}: ${p.message}`;
}

/** Kinds that are not applied to a cluster, and so have nothing to validate against it. */
const TOOLING_KINDS = new Set(['kustomize.config.k8s.io/v1beta1/Kustomization', 'kustomize.config.k8s.io/v1alpha1/Component']);

/** Kinds without a namespace. */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'StorageClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PriorityClass',
  'IngressClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
]);

/** Kinds whose pods run indefinitely, and so need probes. */
const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod']);

interface Container {
  name?: string;
  image?: string;
  ports?: { name?: string; containerPort?: number }[];
  env?: { valueFrom?: { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef } }[];
  envFrom?: { secretRef?: NameRef; configMapRef?: NameRef }[];
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface KeyRef {
  name?: string;
  key?: string;
  optional?: boolean;
}
interface NameRef {
  name?: string;
  optional?: boolean;
}
interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: { secret?: { secretName?: string; optional?: boolean }; configMap?: NameRef }[];
}

/** A workload's pod: where its spec sits, its labels, and the Secrets it declares as external. */
interface Pod {
  readonly doc: SourceDocument;
  readonly namespace: string;
  /** Where its spec sits (see podSpecOf). */
  readonly path: string;
  readonly spec: PodSpec;
  readonly labels: Record<string, string>;
  readonly externalSecrets: Set<string>;
}

const namespaceOf = (o: KubeObject) => (CLUSTER_SCOPED.has(o.kind) ? '' : (o.metadata?.namespace ?? 'default'));
const nameOf = (o: KubeObject) => o.metadata?.name ?? '';
const id = (kind: string, namespace: string, name: string) => `${kind} ${namespace ? `${namespace}/` : ''}${name}`;

function podsOf(docs: readonly SourceDocument[]): Pod[] {
  const pods: Pod[] = [];
  for (const doc of docs) {
    const pod = podSpecOf(doc.object);
    if (!pod) continue;
    const meta = pod.metadata;
    const external = String(meta?.annotations?.[EXTERNAL_SECRETS_ANNOTATION] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    pods.push({
      doc,
      namespace: namespaceOf(doc.object),
      path: pod.path,
      spec: pod.spec as PodSpec,
      labels: (meta?.labels ?? {}) as Record<string, string>,
      externalSecrets: new Set(external),
    });
  }
  return pods;
}

const at = (pod: Pod, rest: string) => `${pod.path}.${rest}`;

/** No image without a tag or digest, and none on `latest`. */
function checkImages(pods: Pod[], add: (doc: SourceDocument, path: string, message: string) => void): void {
  for (const pod of pods) {
    for (const list of ['containers', 'initContainers'] as const) {
      pod.spec[list]?.forEach((c, i) => {
        const image = c.image ?? '';
        const unpinned = unpinnedImage(image);
        if (unpinned === 'no tag') add(pod.doc, at(pod, `${list}[${i}].image`), `image "${image}" has no tag: pin an exact tag`);
        else if (unpinned === 'latest') add(pod.doc, at(pod, `${list}[${i}].image`), `image "${image}" uses latest: pin an exact tag`);
      });
    }
  }
}

/** Every long-running container has readiness and liveness probes, and CPU and memory requests and limits. */
function checkProbesAndResources(pods: Pod[], add: (doc: SourceDocument, path: string, message: string) => void): void {
  for (const pod of pods) {
    if (!LONG_RUNNING.has(pod.doc.object.kind)) continue;
    pod.spec.containers?.forEach((c, i) => {
      const where = at(pod, `containers[${i}]`);
      if (!c.readinessProbe) add(pod.doc, `${where}.readinessProbe`, `container ${c.name} has no readiness probe`);
      if (!c.livenessProbe) add(pod.doc, `${where}.livenessProbe`, `container ${c.name} has no liveness probe`);
      for (const kind of ['requests', 'limits'] as const) {
        const missing = ['cpu', 'memory'].filter((r) => !c.resources?.[kind]?.[r]);
        if (missing.length) add(pod.doc, `${where}.resources.${kind}`, `container ${c.name} sets no ${kind} for ${missing.join(' and ')}`);
      }
    });
  }
}

/** Every Secret or ConfigMap key a pod reads exists, unless optional or declared external. */
function checkReferences(
  docs: readonly SourceDocument[],
  pods: Pod[],
  add: (doc: SourceDocument, path: string, message: string) => void,
): void {
  const keys = new Map<string, Set<string>>();
  for (const { object } of docs) {
    if (object.kind !== 'Secret' && object.kind !== 'ConfigMap') continue;
    const data = { ...(object.data as object), ...(object.stringData as object), ...(object.binaryData as object) };
    keys.set(id(object.kind, namespaceOf(object), nameOf(object)), new Set(Object.keys(data)));
  }
  for (const pod of pods) {
    const check = (kind: 'Secret' | 'ConfigMap', name: string | undefined, key: string | undefined, optional: boolean | undefined, path: string) => {
      if (optional || !name || (kind === 'Secret' && pod.externalSecrets.has(name))) return;
      const found = keys.get(id(kind, pod.namespace, name));
      const what = id(kind, pod.namespace, name);
      if (!found) {
        const hint = kind === 'Secret' ? ` (or list it in the pod annotation ${EXTERNAL_SECRETS_ANNOTATION})` : '';
        add(pod.doc, path, `${what} does not exist: add it, or mark the reference optional${hint}`);
      } else if (key !== undefined && !found.has(key)) {
        add(pod.doc, path, `${what} has no key "${key}"`);
      }
    };
    for (const list of ['containers', 'initContainers'] as const) {
      pod.spec[list]?.forEach((c, i) => {
        c.env?.forEach((e, j) => {
          const s = e.valueFrom?.secretKeyRef;
          if (s) check('Secret', s.name, s.key, s.optional, at(pod, `${list}[${i}].env[${j}].valueFrom.secretKeyRef`));
          const m = e.valueFrom?.configMapKeyRef;
          if (m) check('ConfigMap', m.name, m.key, m.optional, at(pod, `${list}[${i}].env[${j}].valueFrom.configMapKeyRef`));
        });
        c.envFrom?.forEach((e, j) => {
          if (e.secretRef) check('Secret', e.secretRef.name, undefined, e.secretRef.optional, at(pod, `${list}[${i}].envFrom[${j}].secretRef`));
          if (e.configMapRef) check('ConfigMap', e.configMapRef.name, undefined, e.configMapRef.optional, at(pod, `${list}[${i}].envFrom[${j}].configMapRef`));
        });
      });
    }
    pod.spec.volumes?.forEach((v, i) => {
      if (v.secret) check('Secret', v.secret.secretName, undefined, v.secret.optional, at(pod, `volumes[${i}].secret`));
      if (v.configMap) check('ConfigMap', v.configMap.name, undefined, v.configMap.optional, at(pod, `volumes[${i}].configMap`));
    });
  }
}

interface ServicePort {
  name?: string;
  port?: number;
  targetPort?: number | string;
}

/** Every Service selects some pod template, and each of its target ports exists on a selected container. */
function checkServices(
  docs: readonly SourceDocument[],
  pods: Pod[],
  add: (doc: SourceDocument, path: string, message: string) => void,
): void {
  for (const doc of docs) {
    if (doc.object.kind !== 'Service') continue;
    const spec = (doc.object.spec ?? {}) as { selector?: Record<string, string>; ports?: ServicePort[]; type?: string };
    const selector = spec.selector ?? {};
    if (spec.type === 'ExternalName' || Object.keys(selector).length === 0) continue;
    const ns = namespaceOf(doc.object);
    const matched = pods.filter(
      (p) => p.namespace === ns && Object.entries(selector).every(([k, v]) => p.labels[k] === v),
    );
    if (matched.length === 0) {
      const text = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
      add(doc, 'spec.selector', `selector ${text} matches no pod template in namespace ${ns}`);
      continue;
    }
    const containers = matched.flatMap((p) => p.spec.containers ?? []);
    spec.ports?.forEach((port, i) => {
      const target = port.targetPort ?? port.port;
      const found = containers.some((c) =>
        (c.ports ?? []).some((cp) => (typeof target === 'number' ? cp.containerPort === target : cp.name === target)),
      );
      if (!found) {
        const path = port.targetPort === undefined ? `spec.ports[${i}].port` : `spec.ports[${i}].targetPort`;
        add(doc, path, `target port ${target} is not a port of the selected containers`);
      }
    });
  }
}

interface RouteRule {
  route?: { destination?: { host?: string; port?: { number?: number } } }[];
}

/** A VirtualService's destinations are Services of this set with that port, and its Gateways exist. */
function checkVirtualServices(
  docs: readonly SourceDocument[],
  add: (doc: SourceDocument, path: string, message: string) => void,
): void {
  const services = new Map<string, ServicePort[]>();
  const gateways = new Set<string>();
  for (const { object } of docs) {
    if (object.kind === 'Service') services.set(`${namespaceOf(object)}/${nameOf(object)}`, (object.spec as { ports?: ServicePort[] })?.ports ?? []);
    if (object.kind === 'Gateway' && object.apiVersion.startsWith('networking.istio.io/')) gateways.add(`${namespaceOf(object)}/${nameOf(object)}`);
  }
  for (const doc of docs) {
    if (doc.object.kind !== 'VirtualService') continue;
    const ns = namespaceOf(doc.object);
    const spec = (doc.object.spec ?? {}) as Partial<Record<'http' | 'tcp' | 'tls', RouteRule[]>> & { gateways?: string[] };
    spec.gateways?.forEach((g, i) => {
      if (g === 'mesh') return;
      const key = g.includes('/') ? g : `${ns}/${g}`;
      if (!gateways.has(key)) add(doc, `spec.gateways[${i}]`, `Gateway ${key} does not exist`);
    });
    for (const protocol of ['http', 'tcp', 'tls'] as const) {
      spec[protocol]?.forEach((rule, i) => {
        rule.route?.forEach((route, j) => {
          const host = route.destination?.host ?? '';
          const path = `spec.${protocol}[${i}].route[${j}].destination`;
          const local = /^([a-z0-9-]+)(?:\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?)?$/.exec(host);
          if (!local) return; // a host outside the cluster (a ServiceEntry): not ours to check
          const key = `${local[2] ?? ns}/${local[1]}`;
          const ports = services.get(key);
          if (!ports) {
            add(doc, `${path}.host`, `Service ${key} does not exist`);
            return;
          }
          const number = route.destination?.port?.number;
          if (number !== undefined && !ports.some((p) => p.port === number)) {
            add(doc, `${path}.port.number`, `Service ${key} has no port ${number}`);
          }
        });
      });
    }
  }
}

/** No two objects share a kind, namespace and name. */
function checkDuplicates(docs: readonly SourceDocument[], add: (doc: SourceDocument, path: string, message: string) => void): void {
  const seen = new Map<string, SourceDocument>();
  for (const doc of docs) {
    const key = `${doc.object.apiVersion.split('/')[0]}|${id(doc.object.kind, namespaceOf(doc.object), nameOf(doc.object))}`;
    const first = seen.get(key);
    if (first) {
      add(doc, 'metadata.name', `${id(doc.object.kind, namespaceOf(doc.object), nameOf(doc.object))} is already defined at ${first.file}:${first.index}`);
    } else seen.set(key, doc);
  }
}

/** Object names and namespaces the API server would refuse: RFC 1123 label (a Namespace) and subdomain (most kinds), RFC 1035 label (a Service). */
function checkNames(docs: readonly SourceDocument[], add: (doc: SourceDocument, path: string, message: string) => void): void {
  for (const doc of docs) {
    const name = nameOf(doc.object);
    const namespace = doc.object.metadata?.namespace;
    if (name) {
      const kind = doc.object.kind;
      const [valid, what] =
        kind === 'Service'
          ? [isDns1035Label, 'a DNS-1035 label (lowercase letters, digits and "-", starting with a letter, at most 63)']
          : kind === 'Namespace'
            ? [isDnsLabel, 'a DNS-1123 label (lowercase letters, digits and "-", at most 63)']
            : [isDnsSubdomain, 'a DNS-1123 subdomain (lowercase letters, digits, "-" and ".", at most 253)'];
      if (!valid(name)) add(doc, 'metadata.name', `"${name}" is not a valid ${kind} name: it must be ${what}`);
    }
    if (typeof namespace === 'string' && !isDnsLabel(namespace)) {
      add(doc, 'metadata.namespace', `"${namespace}" is not a valid namespace: it must be a DNS-1123 label`);
    }
  }
}

/** Kinds whose `spec.selector` must select their own pod template, or the API server refuses them. */
const SELECTING = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);

/** A workload's selector matches its template's labels (`matchLabels`; `matchExpressions` are left to the server). */
function checkSelectors(docs: readonly SourceDocument[], add: (doc: SourceDocument, path: string, message: string) => void): void {
  for (const doc of docs) {
    if (!SELECTING.has(doc.object.kind)) continue;
    // biome-ignore lint/suspicious/noExplicitAny: a workload's spec, read as plain data.
    const spec = (doc.object as any).spec;
    const wanted: Record<string, unknown> = spec?.selector?.matchLabels ?? {};
    const labels: Record<string, unknown> = spec?.template?.metadata?.labels ?? {};
    if (Object.keys(wanted).length === 0 && !(spec?.selector?.matchExpressions?.length > 0)) {
      add(doc, 'spec.selector', 'a selector is required, and must match spec.template.metadata.labels');
      continue;
    }
    for (const [key, value] of Object.entries(wanted)) {
      if (labels[key] !== value) {
        add(doc, `spec.selector.matchLabels.${key}`, `selects ${key}=${String(value)}, which the pod template's labels do not have: the API server refuses it`);
      }
    }
  }
}

/** Runs every check over `docs` and returns the problems in file and document order. */
export async function validateDocuments(docs: readonly SourceDocument[]): Promise<ValidationReport> {
  const problems: Problem[] = [];
  const notes: string[] = [];
  const add = (doc: SourceDocument, path: string, message: string) =>
    problems.push({ file: doc.file, index: doc.index, path, message });

  const cluster: SourceDocument[] = [];
  for (const doc of docs) {
    const { apiVersion, kind } = doc.object ?? {};
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
      add(doc, '$', 'not a Kubernetes object: apiVersion and kind are required');
      continue;
    }
    if (TOOLING_KINDS.has(`${apiVersion}/${kind}`)) continue;
    if (!nameOf(doc.object)) add(doc, 'metadata.name', 'metadata.name is required');
    const check = await schemaCheck(apiVersion, kind);
    if (check) for (const e of check(doc.object)) add(doc, e.path, e.message);
    else notes.push(`${doc.file}:${doc.index}: no schema for ${apiVersion} ${kind}; checked only across resources`);
    cluster.push(doc);
  }
  const pods = podsOf(cluster);
  checkDuplicates(cluster, add);
  checkNames(cluster, add);
  checkSelectors(cluster, add);
  checkImages(pods, add);
  checkProbesAndResources(pods, add);
  checkReferences(cluster, pods, add);
  checkServices(cluster, pods, add);
  checkVirtualServices(cluster, add);

  const order = new Map(docs.map((d, i) => [`${d.file}\u0000${d.index}`, i]));
  problems.sort((a, b) => (order.get(`${a.file}\u0000${a.index}`) ?? 0) - (order.get(`${b.file}\u0000${b.index}`) ?? 0));
  return { problems, notes };
}

