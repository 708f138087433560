/**
 * Exact versions of everything the platform runs. One home: the box builder, bootstrap's `doctor` and the
 * box's content manifest all read them from here.
 */

/** Confluent Platform 7.9 is the last line that supports both KRaft and ZooKeeper. */
export const CONFLUENT_PLATFORM = '7.9.1';

/** Exact versions of the platform's external components. */
export const COMPONENT_VERSIONS = {
  confluentPlatform: CONFLUENT_PLATFORM,
  /** The Kafka release inside Confluent Platform 7.9. */
  kafka: '3.9.1',
  postgres: '16.4',
  istio: '1.24.3',
  ngrokAgent: '3.19.1',
  kubernetes: 'v1.31.4',
  minikube: 'v1.35.0',
  airyCore: '0.54.0',
} as const;

/** Container images, pinned to exact tags. */
export const IMAGES = {
  kafka: `confluentinc/cp-kafka:${CONFLUENT_PLATFORM}`,
  zookeeper: `confluentinc/cp-zookeeper:${CONFLUENT_PLATFORM}`,
  schemaRegistry: `confluentinc/cp-schema-registry:${CONFLUENT_PLATFORM}`,
  postgres: `postgres:${COMPONENT_VERSIONS.postgres}`,
  ngrok: `ngrok/ngrok:${COMPONENT_VERSIONS.ngrokAgent}-alpine`,
} as const;
