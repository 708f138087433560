/** Reading the box catalog for bootstrap: @airy/box-catalog's reader, with errors that say what to check. */
import { CatalogFetchError, catalogUrlOf, displayUrl, type FetchLimits, type LoadedCatalog, readCatalog, urlSource } from '@airy/box-catalog';
import { withoutCredentials } from '@airy/cli-kit';
import type { CatalogTrust } from './trust.js';

export { catalogUrlOf, chooseRelease } from '@airy/box-catalog';

/** The catalog could not be read: what and how to fix it. */
export class CatalogUnreachableError extends Error {
  constructor(url: string, reason: string) {
    // A file: catalog has no network to blame.
    const check = url.startsWith('file:') ? 'check the path' : 'check the URL';
    super(`cannot read the box catalog ${displayUrl(url)} (${reason}): ${check} (--catalog, AIRY_BOX_CATALOG)${url.startsWith('file:') ? '' : ' and the network'}`);
    this.name = 'CatalogUnreachableError';
  }
}

/**
 * `url` with the user name and password of the same catalog in `AIRY_BOX_CATALOG`, when it names it with them and
 * `url` has none: a catalog's credentials are never stored (instance.json keeps its URL without them), so a later
 * run (upgrade, start) finds them where the first run could be given them. Pure but for `env`.
 */
export function withCatalogCredentials(url: string, env: NodeJS.ProcessEnv = process.env): string {
  const given = env.AIRY_BOX_CATALOG;
  if (!given || withoutCredentials(url) !== url || !URL.canParse(given) || withoutCredentials(given) === given) return url;
  return catalogUrlOf(withoutCredentials(given)) === catalogUrlOf(url) ? catalogUrlOf(given) : url;
}

/**
 * Loads the catalog at `url` (a catalog URL or its base) and its `latest` channel pointer. With `trust`, through
 * TUF first (verify.ts, loaded only then): the catalog and channel are signed copies, and the result carries every
 * signed target for {@link signedRelease}.
 */
export async function loadCatalog(url: string, limits: FetchLimits = {}, trust?: CatalogTrust): Promise<LoadedCatalog> {
  if (trust) return (await import('./verify.js')).verifiedCatalog(url, limits, trust);
  const source = urlSource(withCatalogCredentials(url), limits);
  let loaded: LoadedCatalog | undefined;
  try {
    loaded = await readCatalog(source.get, source.catalogUrl);
  } catch (error) {
    if (error instanceof CatalogFetchError) throw new CatalogUnreachableError(source.catalogUrl, error.reason);
    throw error;
  }
  if (!loaded) throw new CatalogUnreachableError(source.catalogUrl, 'not found');
  return loaded;
}
