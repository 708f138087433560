/** Reading a box catalog and its channel pointer over https, http or file. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  type Architecture,
  type BoxCatalog,
  CATALOG_FILE,
  type CatalogProvider,
  type CatalogVersion,
  type ChannelPointer,
  catalogBase,
  channelKey,
  joinUrl,
  type Provider,
  parseCatalog,
  parseChannel,
  resolveRelease,
} from '@airy/box-catalog';
import { errorCode } from './errors.js';

/** The catalog could not be read: what and how to fix it. */
export class CatalogUnreachableError extends Error {
  constructor(url: string, reason: string) {
    super(`cannot read the box catalog ${url} (${reason}): check the URL (--catalog, AIRY_BOX_CATALOG) and the network`);
    this.name = 'CatalogUnreachableError';
  }
}

async function fetchText(url: string): Promise<string | undefined> {
  if (url.startsWith('file://')) {
    return readFile(fileURLToPath(url), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw new CatalogUnreachableError(url, error.code ?? error.message);
    });
  }
  if (!/^https?:\/\//.test(url)) throw new CatalogUnreachableError(url, 'use https://, http:// or file://');
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  } catch (error) {
    const cause = (error as { cause?: Error }).cause;
    throw new CatalogUnreachableError(url, errorCode(error) ?? cause?.message ?? (error as Error).message);
  }
  if (response.status === 404) return undefined;
  if (!response.ok) throw new CatalogUnreachableError(url, `HTTP ${response.status}`);
  return response.text();
}

/** The catalog URL of a base or catalog URL. */
export function catalogUrlOf(url: string): string {
  return url.endsWith('.json') ? url : joinUrl(url, CATALOG_FILE);
}

/** Loads the catalog and (if there is one) the `latest` channel pointer. */
export async function loadCatalog(url: string): Promise<{ url: string; catalog: BoxCatalog; latest?: ChannelPointer }> {
  const catalogUrl = catalogUrlOf(url);
  const text = await fetchText(catalogUrl);
  if (text === undefined) throw new CatalogUnreachableError(catalogUrl, 'not found');
  const catalog = parseCatalog(text, catalogUrl);
  const pointerUrl = joinUrl(catalogBase(catalogUrl), channelKey('latest'));
  const pointerText = await fetchText(pointerUrl).catch(() => undefined);
  return { url: catalogUrl, catalog, latest: pointerText ? parseChannel(pointerText, pointerUrl) : undefined };
}

/** The release to use: `latest` (the channel, else the newest) or an exact version. */
export function chooseRelease(
  loaded: { catalog: BoxCatalog; latest?: ChannelPointer },
  version: string,
  provider: Provider,
  architecture: Architecture,
): { version: CatalogVersion; file: CatalogProvider } {
  const request = version === 'latest' ? { channel: 'latest' } : { version };
  return resolveRelease(loaded.catalog, request, provider, architecture, loaded.latest);
}
