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
export { vagrantArchitecture } from './arch.js';
export {
  ChecksumError,
  DiskFullError,
  DownloadError,
  OutputPathError,
  SizeMismatchError,
  type DownloadRequest,
  type DownloadResult,
  download,
  isVerified,
} from './download.js';
export { backup, type DoctorResult, destroy, doctor, restore, status, stop, upgrade } from './manage.js';
export { DEFAULT_CATALOG, defaultCacheDir, defaultInstanceDir } from './paths.js';
export { DISK_FACTOR, defaultProvider, type HostView, type PreflightCheck, type PreflightInput, preflight } from './preflight.js';
export { type Probe, type ProbeRunner, type ProbeState, platformProbes, runProbe, waitReady } from './readiness.js';
export { CatalogUnreachableError, catalogUrlOf, chooseRelease, loadCatalog, trustFor } from './source.js';
export { type CatalogTrust, chooseTrust, TrustError } from './trust.js';
export { DamagedInstanceError, type InstanceState, instanceOptions, type MachineSpec, machineOf, parseInstance, readInstance } from './instance.js';
export { instanceUrls, welcomeText } from './instance-view.js';
export { type NetworkLimits, type UpOptions, up } from './up.js';
export { ensureProvider, ensureVagrant, type InstallPlan, installPlan, type OsInfo, providerPlan } from './vagrant-install.js';
export { renderVagrantfile, rubyString, type VagrantfileOptions, VagrantfileValueError } from './vagrantfile.js';
