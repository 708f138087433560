/**
 * @airy/manifests: the Kubernetes manifests of the Airy Core Platform as typed data, with rendering and
 * validation. `renderPlatform`, `platformImages` and `platformResources` are the entry points.
 * @packageDocumentation
 */
export { type ApplyStep, applySteps } from './apply-steps.js';
export { EXTRA_FILE, type KindTypes, objectsOf, platformDocuments, withExtra } from './objects.js';
export type { KubeObject } from './components/common.js';
export { EXTERNAL_SECRETS_ANNOTATION } from './components/common.js';
export { app } from './components/apps.js';
export { type BoxFacts, boxFacts, boxFactsEnv } from './box-facts.js';
export { INGRESS, type Route, routes, webhookRoutes } from './components/ingress.js';
export { coreImage } from './components/airy-core.js';
export {
  KAFKA_CLIENT_HEAP,
  SPRING_MIN_OFF_HEAP_MIB,
  SPRING_MIN_WORKING_HEAP_MIB,
  type SpringMemory,
  springJavaToolOptions,
  springMemory,
  springRecordCacheBytes,
} from './components/jvm.js';
export {
  CORE_API_READY,
  COMPONENTS_INSTALLER,
  CORE_COMPONENTS,
  CORE_MANAGED_LABEL,
  type CoreComponent,
  type RouteRule,
  SOURCE_NAMES,
  type SourceName,
  sourceSecret,
} from './airy-core.js';
export { jobsEnv, type LifecycleJob, lifecycleJobs, lifecycleTiers, type Tier, type TierWorkload, tiersEnv } from './lifecycle.js';
export { type Hop, PortChainError, walkIngress } from './ingress-walk.js';
export { API_SERVER_PORTS, NODE_PORT_RANGE, PORT_CHAIN, VM_OWN_PORTS } from './port-chain.js';
export { istioRequests, KUBE_SYSTEM_REQUESTS, LOCAL_VM, type NodeBudget, nodeBudget, systemReserved } from './sizing.js';
export { KAFKA, kafkaBootstrap } from './components/kafka.js';
export { POSTGRES } from './components/postgres.js';
export { SCHEMA_REGISTRY, schemaRegistryUrl } from './components/schema-registry.js';
export { ZOOKEEPER } from './components/zookeeper.js';
export { readManifests, readOptionsFile, UnreadablePathError, writeRendered } from './files.js';
export {
  type AppSpec,
  CONTROLLER_LAYOUTS,
  type ControllerLayout,
  type IngressProps,
  KAFKA_MODES,
  type KafkaMode,
  type KafkaProps,
  type NgrokProps,
  OptionError,
  type PlatformConfig,
  type PlatformOptions,
  type PostgresProps,
  PROFILES,
  type Profile,
  type ResourceSpec,
  resolveApp,
  resolveOptions,
  type SchemaRegistryProps,
  type TopicSpec,
  type ZookeeperProps,
} from './options.js';
export {
  BOX_PLATFORM_OPTIONS,
  BOX_TUNNEL_OPTIONS,
  boxImages,
  type ComponentManifest,
  formatTotals,
  type Platform,
  type PlatformResources,
  platformImages,
  platformObjects,
  platformResources,
  type ResourceTotals,
  renderPlatform,
} from './platform.js';
export { BOX_TUNNEL_FILE, boxFiles, CERTIFICATE_FILE, GENERATED_HEADER, ISTIO_OPERATOR_FILE, renderFiles, renderStream, toYaml } from './render.js';
export { formatProblem, type Problem, type SourceDocument, type ValidationReport, validateDocuments } from './validate.js';
export { escalations } from './escalation.js';
export {
  AIRY_CORE_RELEASE,
  COMPONENT_VERSIONS,
  CONFLUENT_PLATFORM,
  IMAGE_ARCHITECTURES,
  type ImageArchitecture,
  IMAGES,
  imageArchitectures,
  ISTIO_IMAGES,
  KUBERNETES_IMAGES,
} from './versions.js';
export {
  INGRESS_GATEWAY,
  ingressGatewayUrl,
  NGROK_WEB_PORT,
  ngrokAgentConfig,
  type TunnelSpec,
  WEBHOOK_SOURCES,
  type WebhookSource,
  webhookUrls,
} from '@airy/cli-kit';
