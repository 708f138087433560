/**
 * PostgreSQL: a StatefulSet with a volume, a Service on 5432 and `pg_isready` probes. Credentials live only in a
 * Secret: rendered from a password you give, or one you created (named in an annotation, so validation knows).
 */
import { Secret, Service, StatefulSet } from './kinds.js';
import type { IIoK8sApiCoreV1EnvVar as EnvVar } from 'kubernetes-models/v1/EnvVar';
import type { PlatformConfig } from '../options.js';
import { IMAGES } from '../versions.js';
import {
  EXTERNAL_SECRETS_ANNOTATION,
  type KubeObject,
  labels,
  meta,
  podSecurity,
  secureContainer,
  serviceHost,
  volumeClaim,
} from './common.js';

/** Names, port and Secret keys of the PostgreSQL component. */
export const POSTGRES = {
  component: 'postgres',
  service: 'postgres',
  port: 5432,
  /** The postgres image's own user id (Debian variant). */
  uid: 999,
  userKey: 'POSTGRES_USER',
  passwordKey: 'POSTGRES_PASSWORD',
} as const;

/** Environment that reads the credentials from the Secret. */
export function postgresCredentialEnv(config: PlatformConfig, names = { user: 'POSTGRES_USER', password: 'POSTGRES_PASSWORD' }): EnvVar[] {
  const ref = (key: string) => ({ secretKeyRef: { name: config.postgres.secret.name, key } });
  return [
    { name: names.user, valueFrom: ref(POSTGRES.userKey) },
    { name: names.password, valueFrom: ref(POSTGRES.passwordKey) },
  ];
}

/**
 * Pod annotations of a workload reading the credentials from a Secret the user said exists (`existingSecret`).
 * Without a password and without that, nothing is declared, so validation reports the Secret missing.
 */
export function postgresSecretAnnotations(config: PlatformConfig): Record<string, string> | undefined {
  return config.postgres.secret.external ? { [EXTERNAL_SECRETS_ANNOTATION]: config.postgres.secret.name } : undefined;
}

/** The host name of the database Service. */
export function postgresHost(config: PlatformConfig): string {
  return serviceHost(config, POSTGRES.service);
}

/** Every object of PostgreSQL, with the Secret when a password was given. */
export function postgres(config: PlatformConfig): KubeObject[] {
  const { database, user, storage, resources, secret } = config.postgres;
  const sel = labels(POSTGRES.component).selector;
  const ready = { exec: { command: ['sh', '-c', `pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d ${database}`] } };
  const objects: KubeObject[] = [];
  if (secret.password !== undefined) {
    objects.push(
      Secret({
        metadata: meta(config, secret.name, POSTGRES.component),
        type: 'Opaque',
        stringData: { [POSTGRES.userKey]: user, [POSTGRES.passwordKey]: secret.password },
      }),
    );
  }
  const annotations = postgresSecretAnnotations(config);
  objects.push(
    Service({
      metadata: meta(config, POSTGRES.service, POSTGRES.component),
      spec: { selector: sel, ports: [{ name: 'postgres', port: POSTGRES.port, targetPort: 'postgres' }] },
    }),
    StatefulSet({
      metadata: meta(config, POSTGRES.component, POSTGRES.component),
      spec: {
        serviceName: POSTGRES.service,
        replicas: 1,
        selector: { matchLabels: sel },
        template: {
          metadata: { labels: labels(POSTGRES.component).all, ...(annotations ? { annotations } : {}) },
          spec: {
            securityContext: podSecurity(POSTGRES.uid),
            enableServiceLinks: false,
            containers: [
              secureContainer({
                name: 'postgres',
                image: IMAGES.postgres,
                env: [
                  { name: 'POSTGRES_DB', value: database },
                  ...postgresCredentialEnv(config),
                  // A subfolder, so initdb finds it empty even when the volume has lost+found.
                  { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
                ],
                ports: [{ name: 'postgres', containerPort: POSTGRES.port }],
                resources,
                readinessProbe: { ...ready, initialDelaySeconds: 5, periodSeconds: 10 },
                livenessProbe: { ...ready, initialDelaySeconds: 30, periodSeconds: 20, failureThreshold: 6 },
                volumeMounts: [
                  { name: 'data', mountPath: '/var/lib/postgresql/data' },
                  { name: 'run', mountPath: '/var/run/postgresql' },
                ],
              }),
            ],
            volumes: [{ name: 'run', emptyDir: {} }],
          },
        },
        volumeClaimTemplates: [volumeClaim(config, 'data', storage)],
      },
    }),
  );
  return objects;
}
