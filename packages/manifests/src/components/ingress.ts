/**
 * The Istio ingress: the `airy-core` Gateway on port 80 and one VirtualService with every route, longest path
 * first (Istio does not order routes across VirtualServices, so one holds them all). Also the IstioOperator
 * spec that the box's provisioning installs Istio with.
 */
import { Gateway, VirtualService } from './kinds.js';
import type { PlatformConfig } from '../options.js';
import { CORE_PORTS } from '../airy-core.js';
import { PORT_CHAIN } from '../port-chain.js';
import { ISTIO_IMAGES } from '../versions.js';
import { INGRESS_GATEWAY, WEBHOOK_SOURCES } from '@airy/cli-kit';
import { type KubeObject, meta, serviceHost } from './common.js';

/** Names and ports of the ingress. */
export const INGRESS = {
  component: 'ingress',
  gateway: 'airy-core',
  virtualService: 'airy-core',
  port: INGRESS_GATEWAY.httpPort,
} as const;

/** One route: a path (prefix or exact) to a Service port, optionally rewritten. */
export interface Route {
  readonly path: string;
  readonly match: 'prefix' | 'exact';
  readonly rewrite?: string;
  readonly service: string;
  readonly port: number;
}

/**
 * Every route: the release's components' (its Ingress objects, as Istio routes) and your apps' prefixes. Longest
 * path first, exact before prefix, so `/` comes last.
 */
export function routes(config: PlatformConfig): Route[] {
  const all: Route[] = [
    ...config.core.components.flatMap((c) => c.routes.map((r) => ({ ...r, service: c.name, port: CORE_PORTS.service }))),
    ...config.apps.flatMap((a) => a.routes.map((path) => ({ path, match: 'prefix' as const, service: a.name, port: a.port }))),
  ];
  const seen = new Map<string, string>();
  for (const r of all) {
    const key = `${r.match} ${r.path}`;
    const other = seen.get(key);
    if (other) throw new Error(`route ${r.path} is claimed by both ${other} and ${r.service}`);
    seen.set(key, r.service);
  }
  const rank = (r: Route) => (r.match === 'exact' ? 0 : 1);
  return all.sort((a, b) => b.path.length - a.path.length || rank(a) - rank(b) || a.path.localeCompare(b.path));
}

/** Routes of the webhook sources that run (of `all`, the platform's routes): the only ones a tunnel's host name reaches. */
export function webhookRoutes(config: PlatformConfig, all: readonly Route[] = routes(config)): Route[] {
  const paths = new Set(WEBHOOK_SOURCES.map((s) => s.path));
  return all.filter((r) => paths.has(r.path));
}

const httpRoute = (config: PlatformConfig, r: Route) => ({
  name: `${r.service}${r.match === 'exact' ? '-exact' : ''}${r.path === '/' ? '' : r.path.replaceAll(/[^a-z0-9]+/g, '-').replace(/-$/, '')}`,
  match: [{ uri: { [r.match]: r.path } }],
  ...(r.rewrite ? { rewrite: { uri: r.rewrite } } : {}),
  route: [{ destination: { host: serviceHost(config, r.service), port: { number: r.port } } }],
});

/**
 * The Gateway, the VirtualService of the platform's host names and, when webhook sources run, one that takes
 * their paths on any host name: a tunnel (ngrok) forwards with its own public host, as the release's
 * `airy-core-ngrok` Ingress does.
 */
export function ingress(config: PlatformConfig): KubeObject[] {
  const gatewayRef = `${config.namespace}/${INGRESS.gateway}`;
  const all = routes(config);
  const webhooks = webhookRoutes(config, all);
  const hosts = [...config.ingress.hosts, ...(webhooks.length ? ['*'] : [])];
  const { tls } = config.ingress;
  const http = { port: { number: INGRESS.port, name: 'http', protocol: 'HTTP' }, hosts };
  const servers = tls
    ? [
        {
          port: { number: INGRESS_GATEWAY.httpsPort, name: 'https', protocol: 'HTTPS' },
          hosts,
          // Istio reads credentialName from the gateway's own namespace.
          tls: { mode: 'SIMPLE' as const, credentialName: tls.secret },
        },
        { ...http, tls: { httpsRedirect: true } },
      ]
    : [http];
  return [
    Gateway({
      metadata: meta(config, INGRESS.gateway, INGRESS.component),
      spec: { selector: { ...INGRESS_GATEWAY.selector }, servers },
    }),
    VirtualService({
      metadata: meta(config, INGRESS.virtualService, INGRESS.component),
      spec: {
        hosts: [...config.ingress.hosts],
        gateways: [gatewayRef],
        http: all.map((r) => httpRoute(config, r)),
      },
    }),
    ...(webhooks.length
      ? [
          VirtualService({
            metadata: meta(config, `${INGRESS.virtualService}-webhooks`, INGRESS.component),
            spec: { hosts: ['*'], gateways: [gatewayRef], http: webhooks.map((r) => httpRoute(config, r)) },
          }),
        ]
      : []),
  ];
}

/**
 * The cert-manager Certificate for the ingress's host names, issued into the Secret the Gateway reads, in the
 * gateway's namespace; nothing unless asked. It lives beside Istio, outside the platform's namespace and its
 * kustomization. (cert-manager's kinds have no model here: plain data.)
 */
export function gatewayCertificate(config: PlatformConfig): KubeObject | undefined {
  const { tls } = config.ingress;
  if (!tls?.certManager) return undefined;
  const secret = tls.secret;
  const issuer = tls.certManager;
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { ...meta(config, secret, INGRESS.component), namespace: INGRESS_GATEWAY.namespace },
    spec: {
      secretName: secret,
      dnsNames: [...config.ingress.hosts],
      issuerRef: { name: issuer.issuer, kind: issuer.kind, group: 'cert-manager.io' },
    },
  };
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
  // The IstioOperator model types only its metadata, so the spec is plain data here. Hub and tag are explicit, so
  // the images it runs are the ones the box pre-pulls (ISTIO_IMAGES); so are istiod's resources (the minimal
  // profile asks 500m and 2 GiB, more than a laptop's node spares).
  return {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    metadata: { name: 'airy-core', namespace: INGRESS_GATEWAY.namespace },
    spec: {
      profile: 'minimal',
      hub: ISTIO_IMAGES.hub,
      tag: ISTIO_IMAGES.tag,
      components: {
        pilot: {
          k8s: {
            resources: local
              ? { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } }
              : { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } },
          },
        },
        ingressGateways: [
          {
            name: INGRESS_GATEWAY.service,
            namespace: INGRESS_GATEWAY.namespace,
            enabled: true,
            k8s: {
              service: {
                type: local ? 'NodePort' : 'LoadBalancer',
                ports: [
                  port('http2', INGRESS_GATEWAY.httpPort, INGRESS_GATEWAY.httpTargetPort, PORT_CHAIN.http.nodePort),
                  port('https', INGRESS_GATEWAY.httpsPort, INGRESS_GATEWAY.httpsTargetPort, PORT_CHAIN.https.nodePort),
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
