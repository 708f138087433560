/**
 * The in-cluster ngrok agent: a Deployment of the official image forwarding to the Istio ingress gateway, its
 * config (from the shared tunnel model) in a ConfigMap, and the authtoken read from a Secret you create.
 * Rendered only when enabled.
 */
import { stringify } from 'yaml';
import { ConfigMap, Deployment } from './kinds.js';
import type { PlatformConfig } from '../options.js';
import { IMAGES } from '../versions.js';
import { ingressGatewayUrl, NGROK_WEB_PORT, ngrokAgentConfig } from '@airy/cli-kit';
import { EXTERNAL_SECRETS_ANNOTATION, type KubeObject, labels, meta, podSecurity, rolloutStrategy, secureContainer } from './common.js';

/** Names of the ngrok component. */
export const NGROK = { component: 'ngrok', configMap: 'ngrok-config', configKey: 'ngrok.yml', tokenKey: 'authtoken' } as const;

/** The agent's Deployment and ConfigMap; nothing when the agent is disabled. */
export function ngrok(config: PlatformConfig): KubeObject[] {
  if (!config.ngrok.enabled) return [];
  const sel = labels(NGROK.component).selector;
  const agentConfig = ngrokAgentConfig({ target: ingressGatewayUrl(), domain: config.ngrok.domain });
  const probe = { httpGet: { path: '/api/tunnels', port: 'web' } };
  return [
    ConfigMap({
      metadata: meta(config, NGROK.configMap, NGROK.component),
      data: { [NGROK.configKey]: stringify(agentConfig) },
    }),
    Deployment({
      metadata: meta(config, NGROK.component, NGROK.component),
      spec: {
        replicas: 1,
        selector: { matchLabels: sel },
        // One agent: a second holding the same domain would be refused by ngrok.
        strategy: rolloutStrategy(config, 1, true),
        template: {
          metadata: {
            labels: labels(NGROK.component).all,
            annotations: { [EXTERNAL_SECRETS_ANNOTATION]: config.ngrok.authtokenSecret },
          },
          spec: {
            securityContext: podSecurity(),
            enableServiceLinks: false,
            containers: [
              secureContainer({
                name: 'ngrok',
                image: IMAGES.ngrok,
                args: ['start', '--all', '--config', `/etc/ngrok/${NGROK.configKey}`],
                env: [
                  {
                    name: 'NGROK_AUTHTOKEN',
                    valueFrom: { secretKeyRef: { name: config.ngrok.authtokenSecret, key: NGROK.tokenKey } },
                  },
                ],
                ports: [{ name: 'web', containerPort: NGROK_WEB_PORT }],
                resources: { requests: { cpu: '20m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
                readinessProbe: { ...probe, initialDelaySeconds: 5, periodSeconds: 10 },
                livenessProbe: { ...probe, initialDelaySeconds: 15, periodSeconds: 30 },
                securityContext: { readOnlyRootFilesystem: true },
                volumeMounts: [{ name: 'config', mountPath: '/etc/ngrok', readOnly: true }],
              }),
            ],
            volumes: [{ name: 'config', configMap: { name: NGROK.configMap } }],
          },
        },
      },
    }),
  ];
}
