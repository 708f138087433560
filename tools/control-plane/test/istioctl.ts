/**
 * A stand-in for `istioctl install -y [--readiness-timeout T] -f FILE`, for the cluster tests (Istio's charts and
 * images cannot be had here). It does what the real install leaves that the platform depends on: Istio's own CRDs
 * (from its API module, bin/istio-crds.yaml), istiod and each enabled ingress gateway as Deployments sized as the
 * IstioOperator sizes them, and each gateway's Service as the IstioOperator gives it (type, ports, node ports),
 * then waits for their rollout as the real one does. Anything else is refused, so a script asking more of Istio
 * shows here.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const bin = process.env.AIRY_CONTROL_PLANE_BIN ?? '';
const args = process.argv.slice(2);
const file = args[args.indexOf('-f') + 1];
if (args[0] !== 'install' || !args.includes('-f') || !file) {
  console.error(`istioctl stand-in: only "install -y -f FILE" is stood in, not: ${args.join(' ')}`);
  process.exit(2);
}
const timeout = args.find((a) => a.startsWith('--readiness-timeout='))?.split('=')[1] ?? '5m';
const kubectl = (a: string[], input?: string) => execFileSync(join(bin, 'kubectl'), a, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'inherit'] });

// biome-ignore lint/suspicious/noExplicitAny: the IstioOperator is plain data.
const operator = parse(readFileSync(file, 'utf8')) as any;
if (operator?.kind !== 'IstioOperator') {
  console.error(`istioctl stand-in: ${file} holds no IstioOperator`);
  process.exit(1);
}
kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(bin, 'istio-crds.yaml')]);
kubectl(['wait', '--for=condition=Established', 'crd', '-l', 'release=istio', '--timeout=60s']);
const components = operator.spec?.components ?? {};
// biome-ignore lint/suspicious/noExplicitAny: as above.
const deployment = (name: string, namespace: string, labels: Record<string, string>, resources: any) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace, labels },
  spec: {
    replicas: 1,
    selector: { matchLabels: labels },
    template: {
      metadata: { labels },
      spec: { containers: [{ name: 'istio-proxy', image: `${operator.spec?.hub ?? 'docker.io/istio'}/proxyv2:${operator.spec?.tag ?? 'latest'}`, resources: resources ?? {} }] },
    },
  },
});
const objects: object[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } }];
const rollouts: string[][] = [];
if (components.pilot?.enabled !== false) {
  objects.push(deployment('istiod', 'istio-system', { app: 'istiod', istio: 'pilot' }, components.pilot?.k8s?.resources));
  rollouts.push(['-n', 'istio-system', 'deployment/istiod']);
}
for (const gateway of components.ingressGateways ?? []) {
  if (gateway.enabled === false) continue;
  const namespace = gateway.namespace ?? 'istio-system';
  const labels = { app: gateway.name, istio: 'ingressgateway', ...(gateway.label ?? {}) };
  if (namespace !== 'istio-system') objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  objects.push(deployment(gateway.name, namespace, labels, gateway.k8s?.resources));
  const service = gateway.k8s?.service ?? {};
  objects.push({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: gateway.name, namespace, labels },
    spec: { type: service.type ?? 'LoadBalancer', selector: labels, ports: service.ports ?? [{ name: 'http2', port: 80, targetPort: 8080 }] },
  });
  rollouts.push(['-n', namespace, `deployment/${gateway.name}`]);
}
kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
for (const r of rollouts) kubectl(['rollout', 'status', ...r, `--timeout=${timeout}`]);
console.log('✔ Installation complete (istioctl stand-in: CRDs, istiod and the gateways as Deployments)');
