/**
 * Escalations in objects of your own: what gives more than a namespace's worth of power is named, and nothing
 * ordinary is. Through `render --extra` too: rendered, with a warning line each.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { BOX_PLATFORM_OPTIONS, escalations, formatProblem, type KubeObject, platformDocuments, renderPlatform } from '../src/index.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const docs = (...objects: object[]) => objects.map((object, index) => ({ file: 'extra.yaml', index, object: object as KubeObject }));
const container = { name: 'agent', image: 'example/agent:1.0.0', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { tcpSocket: { port: 8080 } }, livenessProbe: { tcpSocket: { port: 8080 } }, resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } } };
const daemonSet = (spec: object, container2: object = container) => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'node-agent', namespace: 'airy' },
  spec: { selector: { matchLabels: { app: 'node-agent' } }, template: { metadata: { labels: { app: 'node-agent' } }, spec: { containers: [container2], ...spec } } },
});
const binding = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name: 'agent-admin' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
  subjects: [{ kind: 'ServiceAccount', name: 'agent', namespace: 'airy' }],
};

test('escalation: cluster-admin bindings, all-powerful roles, privileged pods, the host’s filesystem, network and capabilities', () => {
  const found = escalations(
    docs(
      binding,
      { ...binding, kind: 'RoleBinding', metadata: { name: 'ns-admin', namespace: 'airy' } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'all', namespace: 'airy' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['get', 'bind', 'escalate'] }] },
      daemonSet({ hostPID: true, volumes: [{ name: 'root', hostPath: { path: '//./' } }, { name: 'sock', hostPath: { path: '/run/containerd/containerd.sock' } }] }, { ...container, securityContext: { privileged: true, capabilities: { add: ['CAP_SYS_ADMIN', 'NET_BIND_SERVICE'] } } }),
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug', namespace: 'airy' }, spec: { hostNetwork: true, containers: [container] } },
    ),
  ).map(formatProblem);
  assert.equal(found, [
    'extra.yaml:0:roleRef.name: ClusterRoleBinding agent-admin gives cluster-admin (the whole cluster) to ServiceAccount agent',
    'extra.yaml:1:roleRef.name: RoleBinding ns-admin gives cluster-admin (its namespace, Secrets and RBAC included) to ServiceAccount agent',
    'extra.yaml:2:rules[0]: Role all grants every verb on every resource (cluster-admin in all but name)',
    'extra.yaml:2:rules[1].verbs: Role all may grant itself more: bind, escalate',
    "extra.yaml:3:spec.template.spec.hostPID: DaemonSet node-agent shares the node's processes (hostPID: true)",
    "extra.yaml:3:spec.template.spec.volumes[0].hostPath.path: DaemonSet node-agent mounts the node's whole filesystem (hostPath /)",
    'extra.yaml:3:spec.template.spec.volumes[1].hostPath.path: DaemonSet node-agent mounts "/run/containerd/containerd.sock" from the node (hostPath)',
    'extra.yaml:3:spec.template.spec.containers[0].securityContext.privileged: DaemonSet node-agent: container agent runs privileged (root on the node)',
    'extra.yaml:3:spec.template.spec.containers[0].securityContext.capabilities.add: DaemonSet node-agent: container agent adds CAP_SYS_ADMIN',
    "extra.yaml:4:spec.hostNetwork: Pod debug shares the node's network (hostNetwork: true)",
  ]);
});

test('escalation: the platform itself and ordinary objects raise none', () => {
  // The release's installer is bound to the namespace's admin role, and its frontends keep only nginx's capabilities.
  const everything = renderPlatform({ ...BOX_PLATFORM_OPTIONS, componentsInstaller: true, ngrok: { enabled: true } });
  assert.equal(escalations(platformDocuments(everything)), []);
  assert.equal(escalations(docs(daemonSet({ volumes: [{ name: 'cache', emptyDir: {} }] }), { ...binding, roleRef: { ...binding.roleRef, name: 'view' } })), []);
});

test('escalation: render --extra renders what escalates, with one warning line each', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airy-escalation-'));
  try {
    const extra = join(dir, 'agent.yaml');
    const sa = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'agent', namespace: 'airy' } };
    writeFileSync(extra, [sa, binding, daemonSet({ volumes: [{ name: 'root', hostPath: { path: '/' } }] }, { ...container, securityContext: { privileged: true } })].map((o) => stringify(o)).join('---\n'));
    const out = spawnSync(process.execPath, [join(packageDir, 'bin/airy-manifests.js'), 'render', '--stdout', '--extra', extra], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', AIRY_POSTGRES_PASSWORD: 'one-password-for-these-renders' },
    });
    assert.is(out.status, 0, out.stderr);
    assert.match(out.stdout, /name: cluster-admin/);
    const warnings = out.stderr.split('\n').filter((l) => l.startsWith('warning: '));
    assert.equal(warnings.map((l) => l.replace(/^warning: .*agent\.yaml:/, '')), [
      '1:roleRef.name: ClusterRoleBinding agent-admin gives cluster-admin (the whole cluster) to ServiceAccount agent',
      "2:spec.template.spec.volumes[0].hostPath.path: DaemonSet node-agent mounts the node's whole filesystem (hostPath /)",
      '2:spec.template.spec.containers[0].securityContext.privileged: DaemonSet node-agent: container agent runs privileged (root on the node)',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
