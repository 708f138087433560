/**
 * @airy/cli-kit: what every Airy CLI shares. The exit-code registry, one-line errors, the commander program with
 * `--help`/`--version`/`--verbose`, completion and signal handling, redaction of secrets, backoff, progress bars,
 * atomic and private file writes, the PID-alive check and the lock, the JSON state files' bounded, checked reading, the tunnel's state file (read by two CLIs) and
 * the webhook sources' model (the manifests, the tunnel and bootstrap's URLs). It depends on nothing of ours.
 * @packageDocumentation
 */
export { CliError, confirm, duration, formatDuration, guarded, positive, usageError } from './errors.js';
export { ExitCode, type ExitCodeValue, exitCodeTable } from './exit-codes.js';
export { isAlive, tempPathBeside, writeFileAtomic } from './files.js';
export { lineSplitter, lineTail } from './lines.js';
export { acquireLock, LockedError, type LockOwner } from './lock.js';
export { createProgram, didYouMean, isVerbose, onStopSignal, packageVersion, type ProgramOptions, runCli, stopAtOnce } from './program.js';
export { formatBytes, type Progress, type ProgressOptions, startProgress } from './progress.js';
export { backoffMs } from './backoff.js';
export { redact, withoutCredentials } from './redact.js';
export { shellQuote, shellWord } from './shell.js';
export { field, parseStateFile, type Schema, StateFileError, type StateFileSpec, stateFileProblem } from './state-file.js';
export { printable, printableJson } from './terminal.js';
export { AiryError, REASONS, type ReasonId } from './reasons.js';
export { INGRESS_GATEWAY, ingressGatewayUrl, NGROK_WEB_PORT, ngrokAgentConfig, type TunnelSpec, WEBHOOK_SOURCES, type WebhookSource, enableSourceHint, webhookUrls } from './webhooks.js';
export { defaultTunnelDir, readTunnelState, type TunnelState, type TunnelStatus, tunnelFiles, writeTunnelState } from './tunnel-state.js';
// Types the functions above take or return.
export type { ProcessProbe } from './lock.js';
// Consts whose types the API's signatures name (type-only: no runtime export).
export type { UNIT_SECONDS } from './errors.js';
export type { TUNNEL_STATE, TUNNEL_STATUS } from './tunnel-state.js';
