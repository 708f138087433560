/**
 * What a signed catalog vouches for (the model and pure checks of verification; verify.ts holds tuf-js and the
 * network). Nothing here imports a TUF library: the commands that never verify stay light.
 */
import { type CatalogProvider, type CatalogVersion, catalogUrlOf, displayUrl, type LoadedCatalog, releaseKeys } from '@airy/box-catalog';
import { AiryError, withoutCredentials } from '@airy/cli-kit';
import { ChecksumError, SizeMismatchError } from './download/request.js';

/** The environment variable naming the trusted root, as --trusted-root does. */
export const TRUSTED_ROOT_ENV = 'AIRY_TRUSTED_ROOT';
/** The environment variable that accepts an unsigned catalog (`1`), as --allow-unsigned does. */
export const ALLOW_UNSIGNED_ENV = 'AIRY_ALLOW_UNSIGNED';

/** The most a trusted root file may hold. */
export const MAX_ROOT_BYTES = 1024 * 1024;

/** A signed target: its length and SHA-256, from metadata that verified. */
export interface SignedTarget {
  readonly length: number;
  readonly sha256: string;
}

/** A catalog read through TUF: the catalog and channel are signed copies, and every signed target is known. */
export interface VerifiedCatalog extends LoadedCatalog {
  readonly signed: ReadonlyMap<string, SignedTarget>;
}

/** Why a verification refused, as a stable reason code. */
export type TrustReason =
  | 'TUF_ROOT_INVALID'
  | 'TUF_UNSIGNED'
  | 'TUF_BAD_SIGNATURE'
  | 'TUF_ROLLBACK'
  | 'TUF_EXPIRED'
  | 'TUF_TARGET_MISMATCH'
  | 'TUF_NOT_SIGNED'
  | 'TUF_UNREACHABLE'
  /** No root to verify against: the public catalog without a compiled-in root, or another catalog without --trusted-root. */
  | 'TUF_NO_PUBLIC_ROOT'
  | 'TUF_NO_ROOT';

/** A refusal: one line, with its reason code; nothing was written, downloaded or added. */
export class TrustError extends AiryError {
  constructor(
    override readonly reason: TrustReason,
    message: string,
  ) {
    super(reason, `refused (${reason}): ${message}`);
    this.name = 'TrustError';
  }
}

/**
 * How a catalog is read:
 * - `root`: verified through TUF against `root` (a root.json's exact text), the client's metadata kept in `cacheDir`;
 * - `unsigned`: read unverified, because the user said so (`origin`: which flag, variable or instance said it);
 * - `none`: there is nothing to verify against and nobody allowed an unsigned catalog: refused (source.ts).
 */
export type CatalogTrust =
  | { readonly kind: 'root'; readonly origin: string; readonly root: string; readonly cacheDir: string }
  | { readonly kind: 'unsigned'; readonly origin: string }
  | { readonly kind: 'none'; readonly publicCatalog: boolean };

/** What an instance remembers of how its catalog was trusted (instance.json; see instance.ts). */
export interface RememberedTrust {
  readonly catalog: string;
  /** The root.json it was verified against, as its exact text. */
  readonly trustedRoot?: string;
  /** Made with --allow-unsigned. */
  readonly allowUnsigned?: boolean;
}

/** Where {@link chooseTrust} looks, flags first. */
export interface TrustInputs {
  /** `--trusted-root FILE`. */
  readonly trustedRoot?: string;
  /** `--allow-unsigned`. */
  readonly allowUnsigned?: boolean;
  readonly env: NodeJS.ProcessEnv;
  /** The instance's remembered trust, if it reads this same catalog (start, upgrade, a re-run). */
  readonly remembered?: RememberedTrust;
  /** The catalog to be read. */
  readonly catalog: string;
  /** The public catalog's URL, and its root as compiled in (public-root.ts; undefined: this build has none). */
  readonly publicCatalog: string;
  readonly publicRoot: string | undefined;
}

/** A root file to be read, or the trust itself. */
export type TrustChoice = { readonly kind: 'file'; readonly path: string } | Exclude<CatalogTrust, { kind: 'root' }> | { readonly kind: 'root'; readonly origin: string; readonly root: string };

/** The two ways of verification's inputs that contradict each other, or a variable of no meaning. */
export class TrustInputError extends AiryError {
  constructor(message: string) {
    super('TRUST_OPTIONS_INVALID', message);
    this.name = 'TrustInputError';
  }
}

/** Whether two spellings (base or file URL, with or without credentials) name one catalog. Pure. */
const sameCatalog = (a: string, b: string) => catalogUrlOf(withoutCredentials(a)) === catalogUrlOf(withoutCredentials(b));

/** Whether an environment flag is on: `1`/`true` on, empty/`0`/`false` off, anything else refused. Pure. */
function envFlag(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = (env[name] ?? '').trim().toLowerCase();
  if (value === '' || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  throw new TrustInputError(`${name}=${env[name]}: use 1 to accept an unsigned catalog, or unset it`);
}

/**
 * How to trust the catalog: flags, then the environment, then what the instance remembers (for the same catalog),
 * then the root compiled in for the public catalog; else nothing, which is a refusal. An unsigned catalog is never
 * accepted by default. Pure.
 */
export function chooseTrust(inputs: TrustInputs): TrustChoice {
  if (inputs.trustedRoot && inputs.allowUnsigned) {
    throw new TrustInputError('--trusted-root and --allow-unsigned contradict each other: pass one');
  }
  if (inputs.trustedRoot) return { kind: 'file', path: inputs.trustedRoot };
  if (inputs.allowUnsigned) return { kind: 'unsigned', origin: '--allow-unsigned' };
  const envRoot = inputs.env[TRUSTED_ROOT_ENV] || undefined;
  const envAllow = envFlag(inputs.env, ALLOW_UNSIGNED_ENV);
  if (envRoot && envAllow) throw new TrustInputError(`${TRUSTED_ROOT_ENV} and ${ALLOW_UNSIGNED_ENV} contradict each other: set one`);
  if (envRoot) return { kind: 'file', path: envRoot };
  if (envAllow) return { kind: 'unsigned', origin: ALLOW_UNSIGNED_ENV };
  const remembered = inputs.remembered && sameCatalog(inputs.remembered.catalog, inputs.catalog) ? inputs.remembered : undefined;
  if (remembered?.trustedRoot) return { kind: 'root', origin: 'the root this instance was made with', root: remembered.trustedRoot };
  if (remembered?.allowUnsigned) return { kind: 'unsigned', origin: 'this instance was made with --allow-unsigned' };
  if (sameCatalog(inputs.catalog, inputs.publicCatalog)) {
    return inputs.publicRoot ? { kind: 'root', origin: "the public catalog's root compiled into @airy/bootstrap", root: inputs.publicRoot } : { kind: 'none', publicCatalog: true };
  }
  return { kind: 'none', publicCatalog: false };
}

/** What the instance keeps of a trust, for instance.json: the root's text, or that unsigned was allowed. Pure. */
export function rememberedOf(trust: CatalogTrust): Pick<RememberedTrust, 'trustedRoot' | 'allowUnsigned'> {
  if (trust.kind === 'root') return { trustedRoot: trust.root };
  if (trust.kind === 'unsigned') return { allowUnsigned: true };
  return {};
}

/** The notice an unverified read prints on every run, or none. Pure. */
export function unsignedNotice(trust: CatalogTrust, catalog: string): string | undefined {
  if (trust.kind !== 'unsigned') return undefined;
  return (
    `notice: the catalog ${displayUrl(catalog)} is read unverified (${trust.origin}): whoever can write it can run code on this machine; ` +
    'sign it (airy-box keys init, then airy-box publish --keys) and pass --trusted-root'
  );
}

/** The refusal of a catalog with nothing to verify it against (`signed`: it has TUF metadata). Pure. */
export function noRootRefusal(catalog: string, publicCatalog: boolean, signed: boolean): TrustError {
  if (publicCatalog) {
    return new TrustError(
      'TUF_NO_PUBLIC_ROOT',
      "this build of @airy/bootstrap has no public catalog root compiled in: pass --trusted-root FILE (the publisher's root.json), or accept the catalog unverified with --allow-unsigned",
    );
  }
  return signed
    ? new TrustError('TUF_NO_ROOT', `${displayUrl(catalog)} is signed, but no root to verify it was given: pass --trusted-root FILE (the root.json its publisher gave you) or set ${TRUSTED_ROOT_ENV}`)
    : new TrustError(
        'TUF_UNSIGNED',
        `${displayUrl(catalog)} is not signed (no tuf/timestamp.json): sign it (airy-box keys init, then airy-box publish --keys) and pass --trusted-root DIR/root.json, or accept it unverified with --allow-unsigned`,
      );
}

/** Whether a loaded catalog came through verification. */
export function isVerified(loaded: LoadedCatalog): loaded is VerifiedCatalog {
  return (loaded as Partial<VerifiedCatalog>).signed instanceof Map;
}

/** What the download is held to for a chosen release: the signed box, and its signed chunk index if any. */
export interface SignedRelease {
  readonly sha256: string;
  readonly size: number;
  readonly index?: SignedTarget;
}

/**
 * The signed length and hash of the chosen release's box (and chunk index), which the catalog entry must agree
 * with; a box the targets do not name is refused. Pure.
 */
export function signedRelease(loaded: VerifiedCatalog, chosen: { readonly version: CatalogVersion; readonly file: CatalogProvider }): SignedRelease {
  const keys = releaseKeys(chosen.version.version, chosen.file.name, chosen.file.architecture);
  const box = loaded.signed.get(keys.box);
  if (!box) {
    throw new TrustError('TUF_NOT_SIGNED', `box ${chosen.version.version} (${chosen.file.name}, ${chosen.file.architecture}) is not among the signed targets: ask the publisher to publish it with --keys`);
  }
  if (box.sha256 !== chosen.file.checksum || (chosen.file.size !== undefined && box.length !== chosen.file.size)) {
    throw new TrustError('TUF_TARGET_MISMATCH', `the catalog's entry for ${keys.box} differs from its signed length and hash: the catalog is not the one signed`);
  }
  const index = chosen.file.chunks_url ? loaded.signed.get(keys.chunks) : undefined;
  return { sha256: box.sha256, size: box.length, ...(index ? { index } : {}) };
}

/**
 * A download held to signed values that got other bytes is a refusal of the target (the download has already
 * removed what it wrote); anything else is passed on as it is.
 */
export function asTargetMismatch(error: unknown, signed: SignedRelease | undefined): unknown {
  if (!signed || !(error instanceof ChecksumError || error instanceof SizeMismatchError)) return error;
  const got = error instanceof ChecksumError ? `sha256 ${error.actual}, signed ${error.expected}` : `${error.actual} bytes, signed ${error.expected}`;
  return new TrustError('TUF_TARGET_MISMATCH', `${displayUrl(error.url)} is not the signed box (${got}): nothing was kept; do not use this catalog, tell its publisher`);
}
