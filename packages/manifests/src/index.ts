/**
 * @airy/manifests: the Kubernetes manifests of the Airy Core Platform as typed data, with rendering and
 * validation. `renderPlatform`, `platformImages` and `platformResources` are the entry points.
 * @packageDocumentation
 */
export type { KubeObject } from './components/common.js';
export { EXTERNAL_SECRETS_ANNOTATION } from './components/common.js';
export { app } from './components/apps.js';
export { type BoxFacts, boxFacts, boxFactsEnv } from './box-facts.js';
export { INGRESS, MINIKUBE_NODE_PORT_RANGE, type Route, routes } from './components/ingress.js';
export { KAFKA, kafkaBootstrap } from './components/kafka.js';
export { POSTGRES } from './components/postgres.js';
export { SCHEMA_REGISTRY, schemaRegistryUrl } from './components/schema-registry.js';
export { ZOOKEEPER } from './components/zookeeper.js';
export { readManifests, readOptionsFile, UnreadablePathError, writeRendered } from './files.js';
export {
  type AppSpec,
  CONTROLLER_LAYOUTS,
  type ControllerLayout,
  coreApps,
  type IngressProps,
  KAFKA_MODES,
  type KafkaMode,
  type KafkaProps,
  type NgrokProps,
  OptionError,
  PLATFORM_TOPICS,
  type PlatformConfig,
  type PlatformOptions,
  type PostgresProps,
  PROFILES,
  type Profile,
  type ResourceSpec,
  resolveOptions,
  type SchemaRegistryProps,
  type TopicSpec,
  type ZookeeperProps,
} from './options.js';
export {
  BOX_PLATFORM_OPTIONS,
  type ComponentManifest,
  formatTotals,
  LOCAL_VM,
  type Platform,
  type PlatformResources,
  platformImages,
  platformObjects,
  platformResources,
  type ResourceTotals,
  renderPlatform,
} from './platform.js';
export { GENERATED_HEADER, ISTIO_OPERATOR_FILE, renderFiles, renderStream, toYaml } from './render.js';
export { formatProblem, type Problem, type SourceDocument, type ValidationReport, validateDocuments } from './validate.js';
export { COMPONENT_VERSIONS, CONFLUENT_PLATFORM, IMAGES } from './versions.js';
export {
  INGRESS_GATEWAY,
  ingressGatewayUrl,
  NGROK_WEB_PORT,
  ngrokAgentConfig,
  type TunnelSpec,
  WEBHOOK_SOURCES,
  type WebhookSource,
  webhookUrls,
} from './webhooks.js';
