/**
 * The chain of ports from a laptop to an app in the box: host port (Vagrant's forward on 127.0.0.1) → the VM's
 * port → the ingress gateway's NodePort → its Service port, which the Gateway listens on → the VirtualService's
 * route → the app's Service port → the container's port. One home for the numbers; the Vagrantfile, the
 * provisioning scripts (the NodePort range), the IstioOperator and bootstrap's URLs derive from it.
 *
 * The box runs Minikube with the `none` driver: Kubernetes runs on the VM itself, so a NodePort is a port of the
 * VM and the VM port equals the NodePort by construction (see images/README.md).
 */
import type { Platform } from './platform.js';

/** The ports of the local box, per scheme. */
export const PORT_CHAIN = {
  http: { host: 8080, vm: 80, nodePort: 80 },
  https: { host: 8443, vm: 443, nodePort: 443 },
} as const;

/**
 * The Kubernetes API of the box: Minikube's apiserver port on the VM, forwarded to this port on the host's
 * 127.0.0.1 (an address its certificate names), so `kubectl` on the laptop reaches it with or without the private
 * network.
 */
export const API_SERVER_PORTS = { host: 16443, vm: 8443 } as const;

/**
 * The ports the VM itself listens on with Minikube's `none` driver: sshd, etcd, the apiserver, the kubelet,
 * kube-proxy, the controller manager and the scheduler. A NodePort on one of them would be taken over by
 * kube-proxy for traffic from outside the VM.
 */
export const VM_OWN_PORTS: readonly number[] = [22, 2379, 2380, API_SERVER_PORTS.vm, 10249, 10250, 10256, 10257, 10259];

/**
 * The apiserver's NodePort range: from the gateway's ports 80 and 443, up to just below the lowest of the VM's
 * own ports above them (2379, etcd). Kubernetes allocates a NodePort nobody pinned (a user's Service) anywhere in
 * the range, so a range up to 32767 could hand out 8443 or 10250.
 */
export const NODE_PORT_RANGE = (() => {
  const low = Math.min(PORT_CHAIN.http.nodePort, PORT_CHAIN.https.nodePort);
  const high = Math.min(...VM_OWN_PORTS.filter((p) => p > low)) - 1;
  return `${low}-${high}`;
})();

/** One hop of a request's way in. */
export interface Hop {
  readonly at: string;
  readonly port: number;
}

/** A request that cannot reach an app, and the hop where it stops. */
export class PortChainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PortChainError';
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the walk reads rendered objects as plain data.
type Any = any;

const pathMatches = (match: Any, path: string): boolean => {
  const uri = match?.uri ?? {};
  if (uri.exact !== undefined) return path === uri.exact;
  if (uri.prefix !== undefined) return path.startsWith(uri.prefix);
  return match === undefined;
};

const hostMatches = (hosts: readonly string[], host: string) =>
  hosts.some((h) => h === '*' || h === host || (h.startsWith('*.') && host.endsWith(h.slice(1))));

/**
 * Walks a request for `path` on `host`, sent to the laptop's port for `scheme`, through the rendered platform.
 * Pure: reads only `platform`'s objects and IstioOperator. Returns every hop, or throws {@link PortChainError}.
 */
export function walkIngress(platform: Platform, request: { path: string; host: string; scheme?: 'http' }): Hop[] {
  const ports = PORT_CHAIN[request.scheme ?? 'http'];
  const hops: Hop[] = [
    { at: 'host (127.0.0.1)', port: ports.host },
    { at: 'VM', port: ports.vm },
  ];
  const operator = platform.istioOperator as Any;
  const gateways: Any[] = operator.spec?.components?.ingressGateways ?? [];
  const servicePort = gateways
    .flatMap((g) => g.k8s?.service?.ports ?? [])
    .find((p: Any) => p.nodePort === ports.vm);
  if (!servicePort) throw new PortChainError(`no ingress gateway NodePort is ${ports.vm}, the VM port the host forwards to`);
  hops.push({ at: 'gateway NodePort', port: servicePort.nodePort }, { at: 'gateway Service', port: servicePort.port });

  const objects = platform.components.flatMap((c) => c.objects) as Any[];
  const gateway = objects.find(
    (o) =>
      o.kind === 'Gateway' &&
      o.spec.servers.some((s: Any) => s.port.number === servicePort.port && hostMatches(s.hosts, request.host)),
  );
  if (!gateway) throw new PortChainError(`no Gateway listens on ${servicePort.port} for ${request.host}`);
  hops.push({ at: `Gateway ${gateway.metadata.name}`, port: servicePort.port });

  const gatewayRef = `${gateway.metadata.namespace}/${gateway.metadata.name}`;
  const services = objects.filter(
    (o) => o.kind === 'VirtualService' && o.spec.gateways?.includes(gatewayRef) && hostMatches(o.spec.hosts, request.host),
  );
  // Istio prefers the VirtualService of the most specific host.
  services.sort((a, b) => Number(a.spec.hosts.includes('*')) - Number(b.spec.hosts.includes('*')));
  const route = services.flatMap((vs) => vs.spec.http ?? []).find((r: Any) => (r.match ?? [undefined]).some((m: Any) => pathMatches(m, request.path)));
  if (!route) throw new PortChainError(`no VirtualService route takes ${request.path} on ${request.host}`);
  const destination = route.route[0].destination;
  const serviceName = String(destination.host).split('.')[0];
  hops.push({ at: `route ${route.name}`, port: destination.port.number });

  const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === serviceName);
  if (!service) throw new PortChainError(`route ${route.name} goes to Service ${serviceName}, which is not rendered`);
  const sp = service.spec.ports.find((p: Any) => p.port === destination.port.number);
  if (!sp) throw new PortChainError(`Service ${serviceName} has no port ${destination.port.number}`);
  hops.push({ at: `Service ${serviceName}`, port: sp.port });

  const selector: Record<string, string> = service.spec.selector ?? {};
  const workload = objects.find((o) => {
    const podLabels = o.spec?.template?.metadata?.labels;
    return ['Deployment', 'StatefulSet'].includes(o.kind) && podLabels && Object.entries(selector).every(([k, v]) => podLabels[k] === v);
  });
  if (!workload) throw new PortChainError(`Service ${serviceName} selects no pods`);
  const containers: Any[] = workload.spec.template.spec.containers;
  const containerPort = containers
    .flatMap((c) => c.ports ?? [])
    .find((p: Any) => (typeof sp.targetPort === 'string' ? p.name === sp.targetPort : p.containerPort === (sp.targetPort ?? sp.port)));
  if (!containerPort) throw new PortChainError(`${workload.kind} ${workload.metadata.name} has no port ${sp.targetPort}`);
  hops.push({ at: `${workload.kind} ${workload.metadata.name}`, port: containerPort.containerPort });
  return hops;
}
