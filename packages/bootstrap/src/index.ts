/**
 * @airy/bootstrap: from a clean laptop to a running, verified Airy Core. The `airy-bootstrap` CLI is a thin layer
 * over these functions: the box catalog and the release choice, the verified parallel download, and the instance
 * operations (up, status, stop, destroy, upgrade, backup, restore, doctor).
 *
 * ```ts
 * import { chooseRelease, download, loadCatalog, trustFor } from '@airy/bootstrap';
 * // Verified against the publisher's root.json (TUF); the client's metadata is kept in the cache folder.
 * const trust = await trustFor({ kind: 'file', path: 'root.json' }, '/home/me/.airy/cache');
 * const loaded = await loadCatalog('https://example.com/boxes/metadata.json', {}, trust);
 * const { version, file } = chooseRelease(loaded, 'latest', 'libvirt', 'amd64');
 * await download({ url: file.url, sha256: file.checksum, out: `airy-${version.version}.box` });
 * ```
 * @packageDocumentation
 */
export { ChecksumError, DownloadError, type DownloadRequest, type DownloadResult, download } from './download/index.js';
export { type HostView, type PreflightCheck, type PreflightInput, preflight } from './preflight.js';
export { type Probe, type ProbeRunner, type ProbeState, platformProbes, runProbe, waitReady } from './readiness.js';
export { chooseRelease, loadCatalog, trustFor } from './source.js';
export type { InstanceState, MachineSpec } from './instance.js';
export { type NetworkLimits, type UpOptions, up } from './up.js';
// Types the functions above take or return.
export type { DeltaRequest } from './download/index.js';
export type { ParallelismDecision, ParallelismPolicy } from './download/parallelism.js';
export type { ProbeRequest } from './readiness.js';
export type { CatalogTrust, TrustChoice } from './trust.js';
