/**
 * Apps: the platform's own services (API, UI, webhook connectors) and yours, each a Deployment and a Service,
 * wired to Kafka, the Schema Registry and (when asked) the database. Their routes go into the ingress.
 */
import { Deployment, Service } from './kinds.js';
import type { IIoK8sApiCoreV1EnvVar as EnvVar } from 'kubernetes-models/v1/EnvVar';
import { type AppSpec, type PlatformConfig, resolveApp } from '../options.js';
import { disruptionBudget, type KubeObject, labels, meta, podSecurity, rolloutStrategy, secureContainer, spread } from './common.js';
import { kafkaBootstrap } from './kafka.js';
import { POSTGRES, postgresCredentialEnv, postgresHost, postgresSecretAnnotations } from './postgres.js';
import { schemaRegistryUrl } from './schema-registry.js';

type App = PlatformConfig['apps'][number];

/** The environment every app gets, then the app's own (which wins). */
function appEnv(config: PlatformConfig, app: App): EnvVar[] {
  const base: Record<string, string> = {
    KAFKA_BROKERS: kafkaBootstrap(config),
    KAFKA_SCHEMA_REGISTRY_URL: schemaRegistryUrl(config),
    ...(app.database
      ? { DATABASE_HOST: postgresHost(config), DATABASE_PORT: String(POSTGRES.port), DATABASE_NAME: config.postgres.database }
      : {}),
  };
  const values = Object.entries({ ...base, ...app.env }).map(([name, value]) => ({ name, value }));
  const credentials = app.database
    ? postgresCredentialEnv(config, { user: 'DATABASE_USER', password: 'DATABASE_PASSWORD' })
    : [];
  return [...values, ...credentials];
}

/**
 * One app's Deployment, Service and (in production) disruption budget, from an {@link AppSpec} as users write it
 * (checked, with the profile's defaults): `app(platform.config, { name: 'billing', image: 'example/billing:1.4.2',
 * port: 9000 })`.
 */
export function app(config: PlatformConfig, spec: AppSpec): KubeObject[] {
  return appObjects(config, resolveApp(config, spec));
}

function appObjects(config: PlatformConfig, spec: App): KubeObject[] {
  const sel = labels(spec.name).selector;
  const probe = { httpGet: { path: spec.healthPath, port: 'http' } };
  const annotations = spec.database ? postgresSecretAnnotations(config) : undefined;
  return [
    Deployment({
      metadata: meta(config, spec.name, spec.name),
      spec: {
        replicas: spec.replicas,
        selector: { matchLabels: sel },
        strategy: rolloutStrategy(config, spec.replicas),
        template: {
          metadata: { labels: labels(spec.name).all, ...(annotations ? { annotations } : {}) },
          spec: {
            securityContext: podSecurity(),
            affinity: spread(config, spec.name, false),
            enableServiceLinks: false,
            containers: [
              secureContainer({
                name: 'app',
                image: spec.image,
                env: appEnv(config, spec),
                ports: [{ name: 'http', containerPort: spec.port }],
                resources: spec.resources,
                readinessProbe: { ...probe, initialDelaySeconds: 5, periodSeconds: 10 },
                livenessProbe: { ...probe, initialDelaySeconds: 30, periodSeconds: 20, failureThreshold: 6 },
              }),
            ],
          },
        },
      },
    }),
    Service({
      metadata: meta(config, spec.name, spec.name),
      spec: { selector: sel, ports: [{ name: 'http', port: spec.port, targetPort: 'http' }] },
    }),
    ...disruptionBudget(config, spec.name, spec.replicas),
  ];
}

/** Every app. */
export function apps(config: PlatformConfig): KubeObject[] {
  return config.apps.flatMap((a) => appObjects(config, a));
}
