/**
 * @airy/bootstrap: from a clean laptop to a running, verified Airy Core. The `airy-bootstrap` CLI is a thin layer
 * over these functions: the box catalog and the release choice, the verified parallel download, and the instance
 * operations (up, status, stop, destroy, upgrade, backup, restore, doctor).
 *
 * ```ts
 * import { chooseRelease, download, loadCatalog } from '@airy/bootstrap';
 * const loaded = await loadCatalog('https://example.com/boxes/metadata.json');
 * const { version, file } = chooseRelease(loaded, 'latest', 'libvirt', 'amd64');
 * await download({ url: file.url, sha256: file.checksum, out: `airy-${version.version}.box` });
 * ```
 * @packageDocumentation
 */
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
} from './download/index.js';
export { backup, type DoctorResult, destroy, doctor, restore, status, stop, upgrade } from './manage.js';
export { DEFAULT_CATALOG, defaultCacheDir, defaultInstanceDir } from './paths.js';
export { DISK_FACTOR, defaultProvider, type HostView, type PreflightCheck, type PreflightInput, preflight } from './preflight.js';
export { type Probe, type ProbeRunner, type ProbeState, platformProbes, runProbe, waitReady } from './readiness.js';
export { CatalogUnreachableError, catalogUrlOf, chooseRelease, loadCatalog } from './source.js';
export { DamagedInstanceError, type InstanceState, instanceOptions, type MachineSpec, machineOf, parseInstance, readInstance } from './instance.js';
export { instanceUrls, welcomeText } from './instance-view.js';
export { type NetworkLimits, type UpOptions, up } from './up.js';
export { ensureProvider, ensureVagrant, type InstallPlan, installPlan, type OsInfo, providerPlan } from './vagrant-install.js';
export { renderVagrantfile, rubyString, type VagrantfileOptions, VagrantfileValueError } from './vagrantfile.js';
