/**
 * The Istio ingress: the `airy-core` Gateway on port 80 and one VirtualService with every app's routes, longest
 * prefix first (Istio does not order routes across VirtualServices, so one holds them all). Also the IstioOperator
 * spec that the box's provisioning installs Istio with.
 */
import { Gateway } from '@kubernetes-models/istio/networking.istio.io/v1/Gateway';
import { VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1/VirtualService';
import type { PlatformConfig } from '../options.js';
import { INGRESS_GATEWAY } from '../webhooks.js';
import { type KubeObject, meta, serviceHost } from './common.js';

/** Names and ports of the ingress. */
export const INGRESS = {
  component: 'ingress',
  gateway: 'airy-core',
  virtualService: 'airy-core',
  port: INGRESS_GATEWAY.httpPort,
  /** NodePorts of the local profile. Minikube must allow them: see `MINIKUBE_NODE_PORT_RANGE`. */
  localNodePorts: { http: 80, https: 443 },
} as const;

/** The apiserver flag value Minikube needs for NodePorts 80 and 443. */
export const MINIKUBE_NODE_PORT_RANGE = '80-32767';

/** One route: a path prefix to an app's Service port. */
export interface Route {
  readonly prefix: string;
  readonly service: string;
  readonly port: number;
}

/** Every app's routes, longest prefix first, so `/` comes last. */
export function routes(config: PlatformConfig): Route[] {
  const all = config.apps.flatMap((a) => a.routes.map((prefix) => ({ prefix, service: a.name, port: a.port })));
  const seen = new Map<string, string>();
  for (const r of all) {
    const other = seen.get(r.prefix);
    if (other) throw new Error(`route ${r.prefix} is claimed by both ${other} and ${r.service}`);
    seen.set(r.prefix, r.service);
  }
  return all.sort((a, b) => b.prefix.length - a.prefix.length || a.prefix.localeCompare(b.prefix));
}

/** The Gateway and the VirtualService. */
export function ingress(config: PlatformConfig): KubeObject[] {
  const gatewayRef = `${config.namespace}/${INGRESS.gateway}`;
  return [
    new Gateway({
      metadata: meta(config, INGRESS.gateway, INGRESS.component),
      spec: {
        selector: { ...INGRESS_GATEWAY.selector },
        servers: [{ port: { number: INGRESS.port, name: 'http', protocol: 'HTTP' }, hosts: [...config.ingress.hosts] }],
      },
    }),
    new VirtualService({
      metadata: meta(config, INGRESS.virtualService, INGRESS.component),
      spec: {
        hosts: [...config.ingress.hosts],
        gateways: [gatewayRef],
        http: routes(config).map((r) => ({
          name: r.service + (r.prefix === '/' ? '' : r.prefix.replaceAll('/', '-')),
          match: [{ uri: { prefix: r.prefix } }],
          route: [{ destination: { host: serviceHost(config, r.service), port: { number: r.port } } }],
        })),
      },
    }),
  ];
}

/**
 * The IstioOperator for `istioctl install -f`: the minimal profile plus the ingress gateway; NodePorts 80/443
 * locally, a LoadBalancer in production.
 */
export function istioOperator(config: PlatformConfig): KubeObject {
  const local = config.profile === 'local';
  const port = (name: string, port: number, targetPort: number, nodePort: number) => ({
    name,
    port,
    targetPort,
    ...(local ? { nodePort } : {}),
  });
  // The IstioOperator model types only its metadata, so the spec is plain data here.
  return {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    metadata: { name: 'airy-core', namespace: INGRESS_GATEWAY.namespace },
    spec: {
      profile: 'minimal',
      components: {
        ingressGateways: [
          {
            name: INGRESS_GATEWAY.service,
            namespace: INGRESS_GATEWAY.namespace,
            enabled: true,
            k8s: {
              service: {
                type: local ? 'NodePort' : 'LoadBalancer',
                ports: [
                  port('http2', INGRESS_GATEWAY.httpPort, 8080, INGRESS.localNodePorts.http),
                  port('https', INGRESS_GATEWAY.httpsPort, 8443, INGRESS.localNodePorts.https),
                ],
              },
              resources: local
                ? { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } }
                : { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '2', memory: '1Gi' } },
            },
          },
        ],
      },
    },
  };
}
