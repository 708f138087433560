/**
 * A request's way in, walked through a rendered platform: the laptop's port, the VM's, the gateway's NodePort and
 * Service port, the Gateway and VirtualService, the app's Service and its container. Pure.
 */
import type { Platform } from './platform.js';
import { PORT_CHAIN } from './port-chain.js';

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
