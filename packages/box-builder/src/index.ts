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
export { type BuildOptions, type BuildResult, buildBox } from './build.js';
export { hashFile } from './hash.js';
export { buildPeakBytes, type Check, type HostFacts } from './preflight.js';
export { moveChannel, type PublishRequest, type PublishResult, publishBox, type ReleaseRecord } from './publish.js';
export type { S3Settings } from './s3-store.js';
export { type InitOptions, initKeys, type KeyPair, type KeysPolicy, loadKeys, type RoleName, type RotateOptions, resignTimestamp, rotateRoot, type SigningKeys, type SignResult, type TargetInput, type TimestampResult } from './signing.js';
export { type CatalogReader, openStore } from './sources.js';
export type { ObjectStore, StoredObject, UploadOptions, UploadProgress, WriteCondition } from './store.js';
// Types the functions above take or return.
export type { ROLES } from './signing.js';
export type { StoreLimits } from './s3-store.js';
