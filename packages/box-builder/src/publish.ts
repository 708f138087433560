/**
 * Publishing a built box: upload it, verify it, record the release, rebuild the catalog, move the channel.
 * The order guarantees that the catalog never points at an object that is missing or incomplete, and that a
 * failure leaves the catalog as it was.
 */
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  addRelease,
  BOX_DESCRIPTION,
  BOX_NAME,
  type BoxCatalog,
  type BoxContentManifest,
  CATALOG_FILE,
  CatalogError,
  type CatalogProvider,
  channelKey,
  emptyCatalog,
  ImmutableVersionError,
  indexFile,
  isNewerVersion,
  isReleaseRecordKey,
  parseCatalog,
  parseChannel,
  parseReleaseRecord,
  RELEASES_PREFIX,
  type ReleaseRecord,
  releaseKeys,
  stringifyCatalog,
  stringifyChannel,
  stringifyChunkIndex,
  stringifyContentManifest,
} from '@airy/box-catalog';
import { backoffMs } from '@airy/cli-kit';
import { requireSigners, SigningError, signedTargetPaths, type SigningKeys, type SignResult, signTargets, type TargetInput } from './signing.js';
import { type ObjectStore, PreconditionFailedError, StoreLockedError, type UploadProgress } from './store.js';

export type { ReleaseRecord } from '@airy/box-catalog';

/** What to publish and how. */
export interface PublishRequest {
  /** The box file, already hashed. */
  readonly boxFile: string;
  /** Its content manifest; `sha256` and `size` must be set. */
  readonly manifest: BoxContentManifest;
  /** The channel to move to this version, if it is newer than the channel's current one. @default "latest" */
  readonly channel?: string;
  readonly partSize: number;
  readonly concurrency: number;
  readonly onProgress?: UploadProgress;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
  /** Tries of each read-modify-write before giving up. @default 20 */
  readonly attempts?: number;
  /**
   * The keys folder (see signing.ts): the catalog, the box, its chunk index and the channel become signed TUF
   * targets, after the catalog is written. @default unsigned
   */
  readonly signing?: SigningKeys;
  /** The time signatures count from (tests). @default now */
  readonly now?: Date;
}

/** What publishing did. */
export interface PublishResult {
  readonly catalogUrl: string;
  readonly boxUrl: string;
  /** `false` when this exact box was already published (nothing uploaded). */
  readonly uploaded: boolean;
  /** The channel and the version it points at now. */
  readonly channel: { readonly name: string; readonly version: string; readonly moved: boolean };
  /** With `signing`: the metadata versions now in force. */
  readonly signed?: SignResult;
}

/** The uploaded object is not what we sent; the catalog was not touched. */
export class VerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerificationError';
  }
}

/** Between tries of a conditional write that lost a race: cli-kit's backoff, short (the store answers in ms). */
const pause = (attempt: number) => delay(backoffMs(attempt, 20, 1000));

/** Reads every release record under the store. */
async function readRecords(store: ObjectStore): Promise<ReleaseRecord[]> {
  const keys = (await store.list(RELEASES_PREFIX)).filter(isReleaseRecordKey);
  const records = await Promise.all(keys.map(async (k) => ({ k, o: await store.get(k) })));
  return records.flatMap(({ k, o }) => (o ? [parseReleaseRecord(o.body, k)] : []));
}

/**
 * Parses what was read; on a store whose writes are not atomic a reader can catch an object half-written, so a
 * parse failure is retried after a pause (returning undefined) until the last attempt, where it is final.
 */
async function readingTolerantly<T>(attempt: number, attempts: number, parse: () => T | Promise<T>): Promise<T | undefined> {
  try {
    return await parse();
  } catch (error) {
    // Only a text that is not JSON yet may be a write in progress; a record that breaks the catalog's rules is final.
    const halfWritten = error instanceof CatalogError && error.kind === 'syntax';
    if (!halfWritten || attempt + 1 >= attempts) throw error;
    await pause(attempt);
    return undefined;
  }
}

/**
 * Makes the catalog hold every release record: read it, add what is missing, write it back only if nobody changed
 * it meanwhile (If-Match), and repeat until a read finds nothing missing. Even where a store ignores conditional
 * writes, a publisher stops only after reading a catalog that holds every record it can list, so concurrent
 * publishers cannot lose each other's versions.
 */
export async function reconcileCatalog(store: ObjectStore, attempts = 20): Promise<BoxCatalog> {
  let locked: StoreLockedError | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const current = await store.get(CATALOG_FILE);
    const read = await readingTolerantly(attempt, attempts, async () => ({
      catalog: current ? parseCatalog(current.body, store.url(CATALOG_FILE)) : emptyCatalog(BOX_NAME, BOX_DESCRIPTION),
      records: await readRecords(store),
    }));
    if (!read) continue;
    let { catalog } = read;
    let changed = false;
    for (const record of read.records) {
      const result = addRelease(catalog, record.version, record.provider);
      catalog = result.catalog;
      changed ||= !result.unchanged;
    }
    if (!changed && current) return catalog;
    try {
      await store.put(CATALOG_FILE, stringifyCatalog(catalog), current ? { ifMatch: current.etag } : { ifNoneMatch: true });
    } catch (error) {
      if (!(error instanceof PreconditionFailedError)) throw error;
      locked = error instanceof StoreLockedError ? error : undefined;
      await pause(attempt);
    }
  }
  // A lock that never cleared says who holds it, rather than a race that was never run.
  if (locked) throw locked;
  throw new Error(`${CATALOG_FILE} kept changing under us: another publisher is busy; try again`);
}

/**
 * Points `channel` at `version` when that is newer than where it points now (or always, with `force`). Like the
 * catalog, it writes with If-Match and stops only after reading a pointer at least as new as `version`, so where
 * several publishers race, the channel ends on the newest of their versions.
 */
export async function moveChannel(
  store: ObjectStore,
  channel: string,
  version: string,
  options: { force?: boolean; attempts?: number; catalog?: BoxCatalog } = {},
): Promise<{ version: string; moved: boolean }> {
  // A pointer at a version the catalog does not hold (damaged, or written by hand) points nowhere: it is moved.
  const known = (v: string | undefined) => v !== undefined && (!options.catalog || options.catalog.versions.some((x) => x.version === v));
  const key = channelKey(channel);
  let moved = false;
  let locked: StoreLockedError | undefined;
  for (let attempt = 0; attempt < (options.attempts ?? 20); attempt++) {
    const current = await store.get(key);
    const read = await readingTolerantly(attempt, options.attempts ?? 20, () => ({
      pointer: current ? parseChannel(current.body, store.url(key)) : undefined,
    }));
    if (!read) continue;
    const { pointer } = read;
    const done = options.force
      ? moved && pointer?.version === version
      : pointer && known(pointer.version) && !isNewerVersion(version, pointer.version);
    if (done && pointer) return { version: pointer.version, moved };
    const body = stringifyChannel({ channel, version, updatedAt: new Date().toISOString() });
    try {
      await store.put(key, body, current ? { ifMatch: current.etag } : { ifNoneMatch: true });
      moved = true;
    } catch (error) {
      if (!(error instanceof PreconditionFailedError)) throw error;
      locked = error instanceof StoreLockedError ? error : undefined;
      await pause(attempt);
    }
  }
  if (locked) throw locked;
  throw new Error(`channel ${channel} kept changing under us; try again`);
}

/** Publishes one box: see the module comment for the order of steps. */
export async function publishBox(store: ObjectStore, request: PublishRequest): Promise<PublishResult> {
  const { manifest } = request;
  const log = request.log ?? (() => undefined);
  if (!manifest.sha256 || manifest.size === undefined) throw new Error('the content manifest has no sha256 or size');
  // Every key the signing needs, before a byte is uploaded.
  if (request.signing) requireSigners(request.signing, ['targets', 'snapshot', 'timestamp']);
  const keys = releaseKeys(manifest.version, manifest.provider, manifest.architecture);
  const entry: CatalogProvider = {
    name: manifest.provider,
    url: store.url(keys.box),
    checksum_type: 'sha256',
    checksum: manifest.sha256,
    architecture: manifest.architecture,
    default_architecture: manifest.architecture === 'amd64',
    size: manifest.size,
  };

  // Immutable versions: refuse before uploading a byte.
  const existing = await store.get(keys.record);
  const recorded = existing ? parseReleaseRecord(existing.body, keys.record) : undefined;
  if (recorded && recorded.provider.checksum !== manifest.sha256) {
    throw new ImmutableVersionError(manifest.version, manifest.provider, manifest.architecture);
  }

  let uploaded = false;
  let indexText: string | undefined;
  if (!recorded) {
    log(`uploading ${keys.box} (${manifest.size} bytes) to ${store.location}`);
    await store.upload(keys.box, request.boxFile, {
      size: manifest.size,
      sha256: manifest.sha256,
      partSize: request.partSize,
      concurrency: request.concurrency,
      onProgress: request.onProgress,
      signal: request.signal,
    });
    const head = await store.head(keys.box);
    if (!head || head.size !== manifest.size || head.sha256 !== manifest.sha256) {
      throw new VerificationError(
        `${keys.box} on ${store.location} is ${head?.size ?? 'missing'} bytes with sha256 ${head?.sha256 ?? 'none'}, ` +
          `expected ${manifest.size} bytes with ${manifest.sha256}: the catalog was not changed, publish again`,
      );
    }
    uploaded = true;
    await store.put(keys.contentManifest, stringifyContentManifest(manifest));
    // The chunk index, from the very file uploaded, before the record names it: a downloader holding an older box
    // fetches only what changed. Written whole (one put), so it is never read half-made.
    log(`indexing ${keys.box} into content-defined chunks`);
    const index = await indexFile(request.boxFile, { signal: request.signal });
    if (index.sha256 !== manifest.sha256 || index.size !== manifest.size) {
      throw new VerificationError(`${request.boxFile} changed while it was published (its sha256 is now ${index.sha256}): the catalog was not changed`);
    }
    indexText = stringifyChunkIndex(index);
    await store.put(keys.chunks, indexText);
    const record: ReleaseRecord = {
      version: manifest.version,
      provider: { ...entry, chunks_url: store.url(keys.chunks) },
      publishedAt: new Date().toISOString(),
    };
    try {
      await store.put(keys.record, `${JSON.stringify(record, null, 2)}\n`, { ifNoneMatch: true });
    } catch (error) {
      // Lost the race to another publisher of this version: fine if it is this box (checked below). A lock that
      // may still be held is not a lost race: what holds it is said as it is.
      if (!(error instanceof PreconditionFailedError) || error instanceof StoreLockedError) throw error;
    }
    // Whoever won the race to create the record, it must be this box.
    const now = await store.get(keys.record);
    if (!now || parseReleaseRecord(now.body, keys.record).provider.checksum !== manifest.sha256) {
      throw new ImmutableVersionError(manifest.version, manifest.provider, manifest.architecture);
    }
    log(`verified ${keys.box}: ${manifest.size} bytes, sha256 ${manifest.sha256}`);
  } else {
    log(`${manifest.version} (${manifest.provider}, ${manifest.architecture}) is already published with this checksum`);
  }

  const catalog = await reconcileCatalog(store, request.attempts);
  const channel = request.channel ?? 'latest';
  const moved = await moveChannel(store, channel, manifest.version, {
    attempts: request.attempts,
    catalog,
  });
  const signed = request.signing
    ? await signRelease(store, request.signing, { request, keys, catalog, channel, indexText, attempts: request.attempts })
    : undefined;
  return {
    catalogUrl: store.url(CATALOG_FILE),
    boxUrl: entry.url,
    uploaded,
    channel: { name: channel, version: moved.version, moved: moved.moved },
    ...(signed ? { signed } : {}),
  };
}

/** A promote that cannot be: no catalog, or no such version in it. */
export class PromoteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PromoteError';
  }
}

/** What `catalog promote` is asked to do. */
export interface PromoteRequest {
  readonly channel: string;
  readonly version: string;
  /** Sign the moved pointer (TUF), as publish --keys does; the version's box must already be a signed target. */
  readonly signing?: SigningKeys;
  readonly now?: Date;
  readonly log?: (line: string) => void;
}

/**
 * Points a channel at a published version (a rollback moves `latest` back). With `signing`, in publish's order:
 * every key is checked and the version's boxes are found among the signed targets before the pointer moves, then
 * the new pointer is signed (targets, snapshot, timestamp last). A failed signing leaves the last signed pointer in
 * force for verifying clients; promote again to finish.
 */
export async function promoteVersion(store: ObjectStore, request: PromoteRequest): Promise<{ readonly signed?: SignResult }> {
  if (request.signing) requireSigners(request.signing, ['targets', 'snapshot', 'timestamp']);
  const text = await store.get(CATALOG_FILE);
  if (!text) throw new PromoteError(`no catalog at ${store.location}: publish first, or check --to`);
  const version = parseCatalog(text.body, store.url(CATALOG_FILE)).versions.find((v) => v.version === request.version);
  if (!version) throw new PromoteError(`the catalog has no version ${request.version}`);
  if (request.signing) {
    // A signed pointer at a box the targets do not name would send verifying clients to a refusal.
    const signed = await signedTargetPaths(store, request.signing);
    const missing = version.providers.map((p) => releaseKeys(version.version, p.name, p.architecture).box).find((key) => !signed.has(key));
    if (missing) {
      throw new SigningError(`${missing} is not among the signed targets: publish ${request.version} with --keys first; the channel was not moved`, 'TARGET_UNSIGNED');
    }
  }
  await moveChannel(store, request.channel, request.version, { force: true });
  if (!request.signing) return {};
  const pointer = await store.get(channelKey(request.channel));
  if (!pointer) throw new Error(`channel ${request.channel} vanished after it was moved; promote again`);
  request.log?.(`signing channel ${request.channel} → ${request.version} (TUF)`);
  return { signed: await signTargets(store, request.signing, [{ path: channelKey(request.channel), body: pointer.body }], request.now ? { now: request.now } : {}) };
}

/**
 * Signs what this publish vouches for: the catalog as reconciled, the channel pointer, and this box and its chunk
 * index from the local file (never from what the bucket says of them). Other releases keep the entries the last
 * signed targets gave them.
 */
async function signRelease(
  store: ObjectStore,
  signing: SigningKeys,
  at: {
    request: PublishRequest;
    keys: ReturnType<typeof releaseKeys>;
    catalog: BoxCatalog;
    channel: string;
    indexText?: string;
    attempts?: number;
  },
): Promise<SignResult> {
  const { manifest } = at.request;
  // A box published before (a publish run again): its index is cut again from the local file, as the first run did.
  const indexText = at.indexText ?? stringifyChunkIndex(await indexFile(at.request.boxFile, { signal: at.request.signal }));
  const pointer = await store.get(channelKey(at.channel));
  const inputs: TargetInput[] = [
    { path: CATALOG_FILE, body: stringifyCatalog(at.catalog) },
    { path: at.keys.box, length: manifest.size ?? 0, sha256: manifest.sha256 ?? '' },
    // Length and hash only: the index stays where it is (tens of MB are not copied).
    { path: at.keys.chunks, length: Buffer.byteLength(indexText), sha256: createHash('sha256').update(indexText).digest('hex') },
    ...(pointer ? [{ path: channelKey(at.channel), body: pointer.body }] : []),
  ];
  at.request.log?.(`signing the catalog, ${at.keys.box}, its chunk index and channel ${at.channel} (TUF)`);
  return signTargets(store, signing, inputs, { ...(at.request.now ? { now: at.request.now } : {}), ...(at.attempts ? { attempts: at.attempts } : {}) });
}
