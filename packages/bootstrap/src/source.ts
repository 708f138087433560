/** Reading a box catalog and its channel pointer over https, http or file. */
import {
  type Architecture,
  type BoxCatalog,
  CATALOG_FILE,
  CatalogError,
  CatalogFetchError,
  type CatalogProvider,
  type CatalogVersion,
  type ChannelPointer,
  catalogBase,
  channelKey,
  displayUrl,
  type FetchLimits,
  fetchCatalogDocument,
  joinUrl,
  type Provider,
  parseCatalog,
  parseChannel,
  resolveRelease,
} from '@airy/box-catalog';

/** The catalog could not be read: what and how to fix it. */
export class CatalogUnreachableError extends Error {
  constructor(url: string, reason: string) {
    super(`cannot read the box catalog ${displayUrl(url)} (${reason}): check the URL (--catalog, AIRY_BOX_CATALOG) and the network`);
    this.name = 'CatalogUnreachableError';
  }
}

async function fetchText(url: string, limits: FetchLimits): Promise<string | undefined> {
  try {
    return await fetchCatalogDocument(url, limits);
  } catch (error) {
    if (error instanceof CatalogFetchError) throw new CatalogUnreachableError(url, error.reason);
    throw error;
  }
}

/** The catalog URL of a base or catalog URL. */
export function catalogUrlOf(url: string): string {
  return url.endsWith('.json') ? url : joinUrl(url, CATALOG_FILE);
}

/** Loads the catalog and (if there is one) the `latest` channel pointer. */
export async function loadCatalog(url: string, limits: FetchLimits = {}): Promise<{ url: string; catalog: BoxCatalog; latest?: ChannelPointer }> {
  const catalogUrl = catalogUrlOf(url);
  const text = await fetchText(catalogUrl, limits);
  if (text === undefined) throw new CatalogUnreachableError(catalogUrl, 'not found');
  const catalog = parseCatalog(text, displayUrl(catalogUrl));
  const pointerUrl = joinUrl(catalogBase(catalogUrl), channelKey('latest'));
  const pointerText = await fetchText(pointerUrl, limits).catch(() => undefined);
  return { url: catalogUrl, catalog, latest: pointerText ? parseChannel(pointerText, displayUrl(pointerUrl)) : undefined };
}

/** The release to use: `latest` (the channel, else the newest) or an exact version. */
export function chooseRelease(
  loaded: { url?: string; catalog: BoxCatalog; latest?: ChannelPointer },
  version: string,
  provider: Provider,
  architecture: Architecture,
): { version: CatalogVersion; file: CatalogProvider } {
  const request = version === 'latest' ? { channel: 'latest' } : { version };
  const chosen = resolveRelease(loaded.catalog, request, provider, architecture, loaded.latest);
  // Only a catalog on this machine may name a box on this machine: a remote one must not reach local files.
  if (loaded.url && !loaded.url.startsWith('file:') && chosen.file.url.startsWith('file:')) {
    throw new CatalogError(displayUrl(loaded.url), `version ${chosen.version.version} names a file: box (${chosen.file.url}); only a file: catalog may`);
  }
  return chosen;
}
