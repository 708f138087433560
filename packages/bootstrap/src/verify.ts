/**
 * Verifying a catalog with tuf-js before anything else: the root the user trusts, then timestamp, snapshot and
 * targets (signatures, thresholds, versions, expiry: all tuf-js's own checks), then the catalog and channel read
 * as signed targets. The client's trusted metadata is kept in the cache, per catalog and root, so a replay of older
 * metadata is refused on a later run too. Every failure is a {@link TrustError} with a reason code.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { CATALOG_FILE, CatalogFetchError, catalogUrlOf, channelKey, type FetchLimits, fetchCatalogDocument, readCatalog } from '@airy/box-catalog';
import { REASONS, withoutCredentials } from '@airy/cli-kit';
import { Metadata, MetadataKind, type Targets } from '@tufjs/models';
import { BaseFetcher, Updater } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { withCatalogCredentials } from './source.js';
import { type CatalogTrust, MAX_ROOT_BYTES, type SignedTarget, TrustError, type TrustReason, type VerifiedCatalog } from './trust.js';

/** tuf-js's fetcher over what the catalog reader reads: https, http and file URLs, bounded, no other scheme. */
class CatalogFetcher extends BaseFetcher {
  constructor(private readonly limits: FetchLimits) {
    super();
  }

  override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    const text = await fetchCatalogDocument(url, this.limits);
    // Absent is what ends the walk over root versions: tuf-js stops at a 404.
    if (text === undefined) throw new DownloadHTTPError(`${withoutCredentials(url)} not found`, 404);
    return new Blob([text]).stream() as ReadableStream<Uint8Array<ArrayBuffer>>;
  }
}

/** The reason code of what tuf-js or its models threw (tuf-js wraps some in a RuntimeError naming the cause). Pure. */
export function reasonOf(error: unknown): TrustReason {
  const text = `${(error as Error)?.constructor?.name ?? ''} ${String((error as Error)?.message ?? error)}`;
  if (/Expired/i.test(text)) return 'TUF_EXPIRED';
  if (/BadVersion|less than|Expected version|EqualVersion/i.test(text)) return 'TUF_ROLLBACK';
  if (/Unsigned|signature|threshold/i.test(text)) return 'TUF_BAD_SIGNATURE';
  if (/LengthOrHash|length|hash|Max length/i.test(text)) return 'TUF_TARGET_MISMATCH';
  if (error instanceof CatalogFetchError || /fetch|ECONN|ENOTFOUND|timed out/i.test(text)) return 'TUF_UNREACHABLE';
  return 'TUF_BAD_SIGNATURE';
}

/** What to do about each refusal: its advice in cli-kit's registry of reasons (the one home of that line). */
const fix = Object.fromEntries(REASONS.map((r) => [r.id, r.advice])) as Record<TrustReason, string>;

/** A TrustError for `error`, with what it means and what to do. */
function refusal(error: unknown, what: string): TrustError {
  if (error instanceof TrustError) return error;
  const reason = reasonOf(error);
  const detail = String((error as Error)?.message ?? error).split('\n')[0];
  return new TrustError(reason, `${what} (${detail}): ${fix[reason]}`);
}

/** The folder of a catalog's trusted metadata: one per catalog URL and trusted root. Pure. */
export function trustDir(cacheDir: string, catalogUrl: string, rootBytes: Buffer): string {
  const id = createHash('sha256').update(withoutCredentials(catalogUrl)).update('\n').update(rootBytes).digest('hex').slice(0, 24);
  return join(cacheDir, 'tuf', id);
}

/**
 * Loads the catalog at `url` through TUF: refreshes the metadata against the trusted root, then reads the catalog
 * and its `latest` channel as signed targets. Returns it with every signed target's length and hash.
 */
export async function verifiedCatalog(url: string, limits: FetchLimits, trust: Extract<CatalogTrust, { kind: 'root' }>): Promise<VerifiedCatalog> {
  const rootBytes = Buffer.from(trust.root, 'utf8');
  try {
    if (rootBytes.length > MAX_ROOT_BYTES) throw new Error('larger than 1 MiB');
    const root = Metadata.fromJSON(MetadataKind.Root, JSON.parse(trust.root));
    root.verifyDelegate('root', root);
  } catch (error) {
    throw new TrustError('TUF_ROOT_INVALID', `${trust.origin} is not a TUF root signed by its own keys (${(error as Error).message}): ${fix.TUF_ROOT_INVALID}`);
  }
  const catalogUrl = catalogUrlOf(withCatalogCredentials(url));
  const base = catalogUrl.slice(0, catalogUrl.lastIndexOf('/') + 1);
  const metadataDir = trustDir(trust.cacheDir, catalogUrl, rootBytes);
  await mkdir(metadataDir, { recursive: true });
  // The trusted root seeds the folder once; after that the folder's own root (perhaps rotated since) is trusted.
  await writeFile(join(metadataDir, 'root.json'), rootBytes, { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  // The signed documents (catalog, channel) kept from earlier runs, named by their signed hash: a warm start reads
  // them here once they still match, and fetches only the root probe and the timestamp.
  const targetsDir = join(metadataDir, 'targets');
  let work: Promise<string> | undefined;
  const workDir = () => {
    work ??= mkdir(targetsDir, { recursive: true }).then(() => mkdtemp(join(metadataDir, 'download-')));
    return work;
  };
  try {
    const updater = new Updater({
      metadataDir,
      metadataBaseUrl: `${base}tuf/`,
      targetBaseUrl: `${base}tuf/targets/`,
      targetDir: targetsDir,
      fetcher: new CatalogFetcher(limits),
    });
    try {
      await updater.refresh();
    } catch (error) {
      // No timestamp at all: a catalog that was never signed.
      if (error instanceof DownloadHTTPError && error.statusCode === 404) {
        throw new TrustError('TUF_UNSIGNED', `${withoutCredentials(catalogUrl)} has no signed metadata (tuf/timestamp.json): ${fix.TUF_UNSIGNED}`);
      }
      throw refusal(error, `the signed metadata of ${withoutCredentials(catalogUrl)} does not verify`);
    }
    // The targets tuf-js verified and kept: every signed length and hash.
    const targets = Metadata.fromJSON(MetadataKind.Targets, JSON.parse(await readFile(join(metadataDir, 'targets.json'), 'utf8'))) as Metadata<Targets>;
    const signed = new Map<string, SignedTarget>(
      Object.entries(targets.signed.targets).map(([path, t]) => [path, { length: t.length, sha256: t.hashes.sha256 ?? '' }]),
    );
    let n = 0;
    const used = new Set<string>();
    let fetched = false;
    const document = async (key: string): Promise<string | undefined> => {
      const info = await updater.getTargetInfo(key);
      if (!info) {
        if (key === CATALOG_FILE) throw new TrustError('TUF_NOT_SIGNED', `${CATALOG_FILE} is not among the signed targets: ${fix.TUF_NOT_SIGNED}`);
        return undefined;
      }
      const name = `${info.hashes.sha256 ?? 'unhashed'}.${key.replaceAll('/', '_')}`;
      used.add(name);
      // Checked in memory, not on disk: what is checked is what is used.
      const kept = await readFile(join(targetsDir, name)).catch(() => undefined);
      if (kept && kept.length === info.length && (await info.verify(Readable.from([kept])).then(() => true, () => false))) return kept.toString('utf8');
      const file = join(await workDir(), `${n++}.json`);
      try {
        await updater.downloadTarget(info, file);
      } catch (error) {
        throw refusal(error, `the signed copy of ${key} does not match its signed length and hash`);
      }
      fetched = true;
      const bytes = await readFile(file);
      // Whole or not at all (a rename within the folder): another run never reads it half-written.
      await rename(file, join(targetsDir, name));
      return bytes.toString('utf8');
    };
    // The channel and the catalog at once; the channel's refusal is thrown first, on its own: the reader forgives a
    // channel it cannot read, a refusal must not be forgiven.
    const channelDoc = document(channelKey('latest'));
    const catalogDoc = document(CATALOG_FILE);
    catalogDoc.catch(() => undefined); // awaited below, once the channel is
    const latest = await channelDoc;
    const loaded = await readCatalog(
      (key) => (key === channelKey('latest') ? Promise.resolve(latest) : key === CATALOG_FILE ? catalogDoc : document(key)),
      catalogUrl,
    );
    if (!loaded) throw new TrustError('TUF_NOT_SIGNED', `${CATALOG_FILE} is not among the signed targets: ${fix.TUF_NOT_SIGNED}`);
    // Copies of documents no longer signed go once something new was fetched.
    if (fetched) {
      for (const old of await readdir(targetsDir).catch(() => [] as string[])) if (!used.has(old)) await rm(join(targetsDir, old), { force: true });
    }
    return { ...loaded, signed };
  } finally {
    await work?.then((dir) => rm(dir, { recursive: true, force: true }), () => undefined);
  }
}
