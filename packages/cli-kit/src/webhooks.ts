/**
 * The webhook sources and the tunnel that brings their calls in. One typed model, here in the light leaf so the
 * laptop's CLIs carry no Kubernetes code: the ingress routes and the in-cluster ngrok agent (@airy/manifests),
 * `airy-tunnel` and bootstrap's URLs all read it, so they cannot disagree.
 */

/** A platform that sends webhooks to Airy Core. */
export interface WebhookSource {
  /** `facebook`, `google` or `twilio`. */
  readonly source: string;
  /** The path on the ingress, e.g. `/facebook`. */
  readonly path: string;
  /** The Service of the connector that receives them. */
  readonly service: string;
  /** The Secret the source's components read their credentials from (created by the user). */
  readonly secret: string;
}

/** The webhook sources of Airy Core, in a stable order. */
export const WEBHOOK_SOURCES: readonly WebhookSource[] = ['facebook', 'google', 'twilio'].map((source) => ({
  source,
  path: `/${source}`,
  service: `sources-${source}-connector`,
  secret: `sources-${source}`,
}));

/**
 * How to turn a webhook source on, said the same way by every CLI: sources are optional (as in the release), and a
 * platform routes a source's path only when it runs.
 */
export function enableSourceHint(source: Pick<WebhookSource, 'source' | 'secret'>): string {
  return `render the platform with sources: [${source.source}] and create the Secret ${source.secret} with its credentials`;
}

/** The Istio ingress gateway Service, where a tunnel forwards to from inside the cluster. */
export const INGRESS_GATEWAY = {
  namespace: 'istio-system',
  service: 'istio-ingressgateway',
  /** The label Gateways select it by. */
  selector: { istio: 'ingressgateway' },
  httpPort: 80,
  httpsPort: 443,
  /** Where the gateway's proxy listens inside its pod (Istio's defaults). */
  httpTargetPort: 8080,
  httpsTargetPort: 8443,
} as const;

/** What a tunnel needs: where it forwards to, an optional static domain, and the sources it serves. */
export interface TunnelSpec {
  /** Upstream URL, e.g. `http://airy.core` from a laptop or the gateway's cluster address in-cluster. */
  readonly target: string;
  /** A static ngrok domain, so webhook URLs survive restarts. */
  readonly domain?: string;
  /** @default WEBHOOK_SOURCES */
  readonly sources?: readonly WebhookSource[];
}

/** The public webhook URL of each source, once the tunnel's public URL is known. */
export function webhookUrls(publicUrl: string, sources: readonly WebhookSource[] = WEBHOOK_SOURCES): Record<string, string> {
  const base = publicUrl.replace(/\/+$/, '');
  return Object.fromEntries(sources.map((s) => [s.source, `${base}${s.path}`]));
}

/** The in-cluster upstream of the ingress gateway. */
export function ingressGatewayUrl(): string {
  return `http://${INGRESS_GATEWAY.service}.${INGRESS_GATEWAY.namespace}.svc.cluster.local:${INGRESS_GATEWAY.httpPort}`;
}

/** The ngrok agent configuration file (version 3) that forwards `spec`'s traffic. */
export function ngrokAgentConfig(spec: TunnelSpec): Record<string, unknown> {
  return {
    version: '3',
    agent: { web_addr: `0.0.0.0:${NGROK_WEB_PORT}`, log: 'stdout', log_format: 'json' },
    endpoints: [
      {
        name: 'airy-core',
        ...(spec.domain ? { url: `https://${spec.domain}` } : {}),
        upstream: { url: spec.target },
      },
    ],
  };
}

/** The agent's local API port (`/api/tunnels`), used for its health probes. */
export const NGROK_WEB_PORT = 4040;
