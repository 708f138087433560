/**
 * @airy/manifests: the Kubernetes manifests of the Airy Core Platform as typed data, with rendering and
 * validation. `renderPlatform`, `platformImages` and `platformResources` are the entry points.
 * @packageDocumentation
 */
export type { ApplyStep } from './apply-steps.js';
export { type KindTypes, objectsOf, platformDocuments, withExtra } from './objects.js';
export type { KubeObject, ObjectMeta } from './components/common.js';
export { app } from './components/apps.js';
export { type BoxFacts, boxFacts, boxFactsEnv } from './box-facts.js';
export type { Route } from './components/ingress.js';
export type { SpringMemory } from './components/jvm.js';
export type { CoreComponent, RouteRule, SourceName } from './airy-core.js';
export type { LifecycleJob, Tier, TierWorkload } from './lifecycle.js';
export type { Hop } from './ingress-walk.js';
export { PORT_CHAIN } from './port-chain.js';
export { type NodeBudget, nodeBudget, systemReserved } from './sizing.js';
export { readManifests, readOptionsFile, writeRendered } from './files.js';
export { type AppSpec, type ControllerLayout, type IngressProps, type KafkaMode, type KafkaProps, type NgrokProps, OptionError, type PlatformConfig, type PlatformOptions, type PostgresProps, type Profile, type ResourceSpec, resolveOptions, type SchemaRegistryProps, type TopicSpec, type ZookeeperProps } from './options.js';
export { BOX_PLATFORM_OPTIONS, boxImages, type ComponentManifest, formatTotals, type Platform, type PlatformResources, platformImages, platformObjects, platformResources, type ResourceTotals, renderPlatform } from './platform.js';
export { BOX_TUNNEL_FILE, boxFiles, renderFiles } from './render.js';
export { formatProblem, type Problem, type SourceDocument, type ValidationReport, validateDocuments } from './validate.js';
export { escalations } from './escalation.js';
export { AIRY_CORE_RELEASE, COMPONENT_VERSIONS, type ImageArchitecture, imageArchitectures, KUBERNETES_IMAGES } from './versions.js';
// Types the functions above take or return (the lists as types: `typeof PROFILES[number]`).
export type { CoreEnv, CoreKind, SOURCE_NAMES } from './airy-core.js';
export type { CONTROLLER_LAYOUTS, KAFKA_MODES, PROFILES, Resolved, TlsProps } from './options.js';
export type { WriteOptions } from './files.js';
