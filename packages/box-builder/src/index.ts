/**
 * @airy/box-builder: builds the Airy Core Vagrant box with Packer and publishes it as a versioned, checksummed
 * catalog. The `airy-box` CLI is a thin layer over these functions.
 *
 * ```ts
 * import { buildBox, openStore, publishBox, hashFile } from '@airy/box-builder';
 * const built = await buildBox({ provider: 'libvirt', version: '1.4.0', outDir: 'dist', accelerator: 'auto',
 *   skipDownloads: false, restrictNetwork: false, cpus: 4, memory: 8192, diskSize: '40960M', log: console.error });
 * const store = openStore('s3://my-bucket/airy', {});
 * await publishBox(store, { boxFile: built.boxFile, manifest: built.manifest, partSize: 16 * 2 ** 20, concurrency: 4 });
 * ```
 * @packageDocumentation
 */
export { type BuildOptions, type BuildResult, buildBox, isRegistryMirror } from './build.js';
export { hashFile } from './hash.js';
export { IMAGES_DIR } from './packer.js';
export { BUILD_DISK_CONTENT, buildPeakBytes, type Check, type HostFacts, MIN_PACKER, preflight } from './preflight.js';
export {
  moveChannel,
  PromoteError,
  type PromoteRequest,
  promoteVersion,
  type PublishRequest,
  type PublishResult,
  publishBox,
  type ReleaseRecord,
  reconcileCatalog,
  VerificationError,
} from './publish.js';
export type { S3Settings } from './s3-store.js';
export {
  DEFAULT_EXPIRES_DAYS,
  documentCopyKey,
  type InitOptions,
  initKeys,
  type KeysPolicy,
  loadKeys,
  ROLES,
  type RoleName,
  type RotateOptions,
  resignTimestamp,
  rotateRoot,
  SigningError,
  type SigningKeys,
  type SignResult,
  signTargets,
  type TargetInput,
  type TimestampResult,
  TUF_PREFIX,
  TUF_TARGETS_PREFIX,
} from './signing.js';
export { type CatalogReader, openReader, openStore } from './sources.js';
export { type ObjectStore, PreconditionFailedError, type StoredObject, StoreLockedError, type UploadOptions, type UploadProgress, type WriteCondition } from './store.js';
