/**
 * @airy/ngrok-tunnel: a supervised ngrok tunnel that brings webhooks to a local Airy Core, with known, printed
 * URLs. The tunnel model (sources, paths, agent config) is @airy/cli-kit's, shared with the manifests' in-cluster
 * agent; the package carries no Kubernetes code, so it installs as light as bootstrap.
 * @packageDocumentation
 */
export { findToken, tokenFiles } from './config.js';
export { classify, type FailureKind, TunnelError } from './errors.js';
export { type Delivery, Deliveries } from './deliveries.js';
export { DEFAULT_INSPECTOR_PORT, type Inspector, type InspectorOptions, startInspector, TOKEN_HEADER } from './inspector.js';
export { ngrokDriver } from './ngrok-driver.js';
export { type Forwarded, forwardOnce, type Proxy, type ProxyOptions, probeUpstream, replay, sourceOf, startProxy } from './proxy.js';
export { checkFacebook, checkSignature, checkTwilio, type SignatureCheck, type SignatureSecrets } from './signatures.js';
export { applyConfigMap, PUBLIC_URLS_CONFIGMAP, publicUrlsConfigMap } from './publish-urls.js';
export { formatEntry, type RequestEntry, RequestLog, redactHeaders, redactPath } from './request-log.js';
export { type SourceStatus, sourcesOnUpstream, webhookLines } from './sources.js';
export { type StartOptions, start } from './start.js';
export { type Clock, type OpenTunnel, supervise, type SupervisorOptions, systemClock, type TunnelDriver } from './supervisor.js';
export { defaultTunnelDir, readTunnelState, type TunnelState, type TunnelStatus, tunnelFiles } from '@airy/cli-kit';
export { ngrokAgentConfig, type TunnelSpec, WEBHOOK_SOURCES, webhookUrls } from '@airy/cli-kit';
