/**
 * @airy/ngrok-tunnel: a supervised ngrok tunnel that brings webhooks to a local Airy Core, with known, printed
 * URLs. The tunnel model (sources, paths, agent config) is @airy/cli-kit's, shared with the manifests' in-cluster
 * agent; the package carries no Kubernetes code, so it installs as light as bootstrap.
 * @packageDocumentation
 */
export { type FailureKind, TunnelError } from './errors.js';
export { checkSignature, type SignatureCheck, type SignatureSecrets } from './signatures.js';
export { type StartOptions, start } from './start.js';
// Types the functions above take or return.
export type { Clock, OpenTunnel, TunnelDriver } from './supervisor.js';
