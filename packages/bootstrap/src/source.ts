/** Reading the box catalog for bootstrap: @airy/box-catalog's reader, with errors that say what to check. */
import { readFile } from 'node:fs/promises';
import { CatalogFetchError, catalogUrlOf, displayUrl, type FetchLimits, type LoadedCatalog, readCatalog, urlSource } from '@airy/box-catalog';
import { withoutCredentials } from '@airy/cli-kit';
import { type CatalogTrust, MAX_ROOT_BYTES, noRootRefusal, type TrustChoice, TrustError } from './trust.js';

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
 * The trust of a {@link TrustChoice}: a root file is read (bounded) here; a root that cannot be read is a
 * TUF_ROOT_INVALID refusal. Its content is checked when it is used (verify.ts).
 */
export async function trustFor(choice: TrustChoice, cacheDir: string): Promise<CatalogTrust> {
  if (choice.kind === 'root') return { ...choice, cacheDir };
  if (choice.kind !== 'file') return choice;
  const root = await readFile(choice.path).catch((error: NodeJS.ErrnoException) => {
    throw new TrustError('TUF_ROOT_INVALID', `cannot read the trusted root ${choice.path} (${error.code ?? error.message}): pass the root.json the catalog was signed with (--trusted-root, AIRY_TRUSTED_ROOT)`);
  });
  if (root.length > MAX_ROOT_BYTES) throw new TrustError('TUF_ROOT_INVALID', `the trusted root ${choice.path} is larger than 1 MiB: it is no root.json`);
  return { kind: 'root', origin: choice.path, root: root.toString('utf8'), cacheDir };
}

/**
 * Loads the catalog at `url` (a catalog URL or its base) and its `latest` channel pointer, as `trust` says: with a
 * root, through TUF first (verify.ts, loaded only then), and the result carries every signed target for
 * {@link signedRelease}; unsigned, as it is (the caller prints {@link unsignedNotice}); with neither, refused.
 */
export async function loadCatalog(url: string, limits: FetchLimits, trust: CatalogTrust): Promise<LoadedCatalog> {
  if (trust.kind === 'root') return (await import('./verify.js')).verifiedCatalog(url, limits, trust);
  const source = urlSource(withCatalogCredentials(url), limits);
  if (trust.kind === 'none') throw await unverifiable(source, trust.publicCatalog);
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

/**
 * The refusal of a catalog nothing can verify. The public catalog is refused without a read; another is looked at
 * once (its timestamp), so that the line says the right thing: sign it, or pass its root.
 */
async function unverifiable(source: ReturnType<typeof urlSource>, publicCatalog: boolean): Promise<Error> {
  if (publicCatalog) return noRootRefusal(source.catalogUrl, true, false);
  try {
    return noRootRefusal(source.catalogUrl, false, (await source.get('tuf/timestamp.json')) !== undefined);
  } catch (error) {
    return error instanceof CatalogFetchError ? new CatalogUnreachableError(source.catalogUrl, error.reason) : (error as Error);
  }
}
