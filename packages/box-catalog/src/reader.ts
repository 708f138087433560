/**
 * The one catalog reader: the catalog and its `latest` channel pointer, from any store (a URL, a folder, S3 through
 * box-builder), then the choice of a release. Bootstrap and box-builder both read catalogs through it.
 */
import {
  type Architecture,
  type BoxCatalog,
  CatalogError,
  type CatalogProvider,
  type CatalogVersion,
  type ChannelPointer,
  emptyCatalog,
  type Provider,
  addRelease,
  parseCatalog,
  parseChannel,
  resolveRelease,
  stringifyCatalog,
} from './catalog.js';
import { displayUrl, type FetchLimits, fetchCatalogDocument } from './fetch.js';
import { CATALOG_FILE, catalogBase, channelKey, joinUrl } from './layout.js';

/** Reads one document by its key under a catalog's base; `undefined` when there is none. */
export type DocumentSource = (key: string) => Promise<string | undefined>;

/** A catalog as read: where it came from, the catalog, and the `latest` pointer if there is one. */
export interface LoadedCatalog {
  /** The catalog's own URL (`…/metadata.json`), as Vagrant would be given it. */
  readonly url: string;
  readonly catalog: BoxCatalog;
  readonly latest?: ChannelPointer;
}

/** The catalog URL of a base or catalog URL (`…/airy` → `…/airy/metadata.json`). */
export function catalogUrlOf(url: string): string {
  return url.endsWith('.json') ? url : joinUrl(url, CATALOG_FILE);
}

/** A document source over https, http or file, for a catalog URL or its base; reads are bounded by `limits`. */
export function urlSource(url: string, limits: FetchLimits = {}): { readonly catalogUrl: string; readonly get: DocumentSource } {
  const catalogUrl = catalogUrlOf(url);
  const base = catalogBase(catalogUrl);
  return { catalogUrl, get: (key) => fetchCatalogDocument(key === CATALOG_FILE ? catalogUrl : joinUrl(base, key), limits) };
}

/**
 * Reads the catalog and its `latest` pointer from `get`; `undefined` when there is no catalog. A pointer that cannot
 * be read is left out (the `latest` channel then means the newest version); a malformed one is a {@link CatalogError}.
 */
export async function readCatalog(get: DocumentSource, url: string): Promise<LoadedCatalog | undefined> {
  const text = await get(CATALOG_FILE);
  if (text === undefined) return undefined;
  const catalog = parseCatalog(text, displayUrl(url));
  const pointerText = await get(channelKey('latest')).catch(() => undefined);
  const latest = pointerText ? parseChannel(pointerText, displayUrl(joinUrl(catalogBase(url), channelKey('latest')))) : undefined;
  return { url, catalog, ...(latest ? { latest } : {}) };
}

/**
 * The release to use: `latest` (its channel, else the newest) or an exact version, with its box file for
 * `provider` on `architecture`. Only a catalog on this machine (`file:`) may name a box on this machine.
 */
export function chooseRelease(
  loaded: { readonly url?: string; readonly catalog: BoxCatalog; readonly latest?: ChannelPointer },
  version: string,
  provider: Provider,
  architecture: Architecture,
): { version: CatalogVersion; file: CatalogProvider } {
  const request = version === 'latest' ? { channel: 'latest' } : { version };
  const chosen = resolveRelease(loaded.catalog, request, provider, architecture, loaded.latest);
  if (loaded.url && !loaded.url.startsWith('file:') && chosen.file.url.startsWith('file:')) {
    throw new CatalogError(displayUrl(loaded.url), `version ${chosen.version.version} names a file: box (${chosen.file.url}); only a file: catalog may`);
  }
  // The same for its chunk index: a catalog from a server may not make bootstrap read a file of this machine.
  if (loaded.url && !loaded.url.startsWith('file:') && chosen.file.chunks_url?.startsWith('file:')) {
    throw new CatalogError(displayUrl(loaded.url), `version ${chosen.version.version} names a file: chunk index (${chosen.file.chunks_url}); only a file: catalog may`);
  }
  return chosen;
}

/**
 * A catalog of one version with one box file: what `vagrant box add` is given to register a verified local box
 * under the real catalog's name and version.
 */
export function singleBoxCatalog(box: {
  readonly name: string;
  readonly version: string;
  readonly provider: Provider;
  readonly architecture: Architecture;
  readonly url: string;
  readonly sha256: string;
}): string {
  const file: CatalogProvider = { name: box.provider, url: box.url, checksum_type: 'sha256', checksum: box.sha256, architecture: box.architecture };
  return stringifyCatalog(addRelease(emptyCatalog(box.name), box.version, file).catalog);
}
