/**
 * The platform's topics, created by an idempotent Job (`kafka-topics --create --if-not-exists`). The Job's name
 * carries a hash of the topic list: Jobs are immutable, so a changed list makes a new Job instead of a failed apply.
 */
import { createHash } from 'node:crypto';
import { Job } from './kinds.js';
import type { PlatformConfig } from '../options.js';
import { IMAGES } from '../versions.js';
import { type KubeObject, labels, meta, podSecurity, secureContainer } from './common.js';
import { KAFKA_CLIENT_HEAP } from './jvm.js';
import { kafkaBootstrap } from './kafka.js';

/** The component name of the topics Job. */
export const TOPICS = { component: 'kafka-topics' } as const;

/** Shell-quotes one word. */
const quote = (word: string) => `'${word.replaceAll("'", `'"'"'`)}'`;

/** The commands the Job runs: wait for the brokers, then create each topic if it does not exist. */
export function topicCommands(config: PlatformConfig): string {
  const bootstrap = kafkaBootstrap(config);
  const wait = [
    'for i in $(seq 1 60); do',
    `  kafka-topics --bootstrap-server ${bootstrap} --list >/dev/null 2>&1 && break`,
    '  echo "waiting for Kafka ($i/60)"; sleep 5',
    'done',
  ];
  const creates = config.topics.map((t) =>
    [
      `kafka-topics --bootstrap-server ${bootstrap} --create --if-not-exists`,
      `--topic ${quote(t.name)} --partitions ${t.partitions} --replication-factor ${config.replication.factor}`,
      ...Object.entries(t.config).map(([k, v]) => `--config ${quote(`${k}=${v}`)}`),
    ].join(' '),
  );
  return ['set -eu', ...wait, ...creates].join('\n');
}

/** The topics Job. */
export function topics(config: PlatformConfig): KubeObject[] {
  const script = topicCommands(config);
  const hash = createHash('sha256').update(script).digest('hex').slice(0, 8);
  return [
    Job({
      metadata: meta(config, `${TOPICS.component}-${hash}`, TOPICS.component),
      spec: {
        backoffLimit: 6,
        ttlSecondsAfterFinished: 86400,
        template: {
          metadata: { labels: labels(TOPICS.component).all },
          spec: {
            restartPolicy: 'OnFailure',
            securityContext: podSecurity(),
            enableServiceLinks: false,
            containers: [
              secureContainer({
                name: 'create-topics',
                image: IMAGES.kafka,
                command: ['bash', '-c', script],
                env: [{ name: 'KAFKA_HEAP_OPTS', value: KAFKA_CLIENT_HEAP }],
                resources: { requests: { cpu: '50m', memory: '256Mi' }, limits: { cpu: '500m', memory: '384Mi' } },
              }),
            ],
          },
        },
      },
    }),
  ];
}
