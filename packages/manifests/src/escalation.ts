/**
 * What in a set of manifests gives more than a namespace's worth of power: bindings to `cluster-admin`, roles that
 * grant everything or the right to grant more, and pods that reach the node (privileged, the host's filesystem,
 * network or processes, or capabilities that amount to root on it). Not wrong in itself (a CNI or a node agent
 * needs some of it), so these are warnings for a person to read, not problems. Pure.
 */
import type { KubeObject } from './components/common.js';
import { podSpecOf } from './pods.js';
import type { Problem, SourceDocument } from './validate.js';

/** Capabilities that give root on the node, or most of it. */
const NODE_CAPABILITIES = new Set(['ALL', 'SYS_ADMIN', 'SYS_MODULE', 'SYS_PTRACE', 'SYS_RAWIO', 'NET_ADMIN', 'DAC_READ_SEARCH', 'BPF']);

interface Rule {
  verbs?: unknown;
  resources?: unknown;
}
interface SecurityContext {
  privileged?: unknown;
  capabilities?: { add?: unknown };
}
interface PodSpec {
  hostNetwork?: unknown;
  hostPID?: unknown;
  hostIPC?: unknown;
  volumes?: { name?: unknown; hostPath?: { path?: unknown } }[];
  containers?: { name?: unknown; securityContext?: SecurityContext }[];
  initContainers?: { name?: unknown; securityContext?: SecurityContext }[];
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
/** A host path as the node resolves it: `//`, `/./` and a trailing `/` do not hide the root. */
const normal = (path: string) => `/${path.split('/').filter((s) => s && s !== '.').join('/')}`;

/** Every escalation in `docs`, as warnings in the form of problems (`file:index:path: message`). */
export function escalations(docs: readonly SourceDocument[]): Problem[] {
  const out: Problem[] = [];
  const warn = (doc: SourceDocument, path: string, message: string) => out.push({ file: doc.file, index: doc.index, path, message });
  for (const doc of docs) {
    const o = doc.object as KubeObject & { roleRef?: { kind?: unknown; name?: unknown }; rules?: Rule[]; subjects?: { kind?: unknown; name?: unknown }[] };
    const what = `${o.kind} ${String(o.metadata?.name ?? '')}`;
    if ((o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding') && o.roleRef?.kind === 'ClusterRole' && o.roleRef?.name === 'cluster-admin') {
      const who = (o.subjects ?? []).map((s) => `${String(s.kind)} ${String(s.name)}`).join(', ') || 'no subject';
      const scope = o.kind === 'ClusterRoleBinding' ? 'the whole cluster' : 'its namespace, Secrets and RBAC included';
      warn(doc, 'roleRef.name', `${what} gives cluster-admin (${scope}) to ${who}`);
    }
    if (o.kind === 'ClusterRole' || o.kind === 'Role') {
      (Array.isArray(o.rules) ? o.rules : []).forEach((rule, i) => {
        const verbs = strings(rule?.verbs);
        if (verbs.includes('*') && strings(rule?.resources).includes('*')) {
          warn(doc, `rules[${i}]`, `${what} grants every verb on every resource (cluster-admin in all but name)`);
        }
        const granting = verbs.filter((v) => ['escalate', 'bind', 'impersonate'].includes(v));
        if (granting.length) warn(doc, `rules[${i}].verbs`, `${what} may grant itself more: ${granting.join(', ')}`);
      });
    }
    const pod = podSpecOf(o);
    if (!pod) continue;
    const spec = pod.spec as PodSpec;
    const base = pod.path;
    for (const [field, what2] of [['hostNetwork', 'network'], ['hostPID', 'processes'], ['hostIPC', 'IPC']] as const) {
      if (spec[field] === true) warn(doc, `${base}.${field}`, `${what} shares the node's ${what2} (${field}: true)`);
    }
    (Array.isArray(spec.volumes) ? spec.volumes : []).forEach((v, i) => {
      const path = v?.hostPath?.path;
      if (typeof path !== 'string') return;
      const where = `${base}.volumes[${i}].hostPath.path`;
      if (normal(path) === '/') warn(doc, where, `${what} mounts the node's whole filesystem (hostPath /)`);
      else warn(doc, where, `${what} mounts ${JSON.stringify(path)} from the node (hostPath)`);
    });
    for (const list of ['containers', 'initContainers'] as const) {
      (Array.isArray(spec[list]) ? spec[list] : []).forEach((c, i) => {
        const where = `${base}.${list}[${i}].securityContext`;
        if (c?.securityContext?.privileged === true) warn(doc, `${where}.privileged`, `${what}: container ${String(c.name)} runs privileged (root on the node)`);
        const added = strings(c?.securityContext?.capabilities?.add).filter((cap) => NODE_CAPABILITIES.has(cap.replace(/^CAP_/, '')));
        if (added.length) warn(doc, `${where}.capabilities.add`, `${what}: container ${String(c.name)} adds ${added.join(', ')}`);
      });
    }
  }
  return out;
}
