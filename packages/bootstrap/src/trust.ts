/**
 * What a signed catalog vouches for (the model and pure checks of verification; verify.ts holds tuf-js and the
 * network). Nothing here imports a TUF library: the commands that never verify stay light.
 */
import { type CatalogProvider, type CatalogVersion, displayUrl, type LoadedCatalog, releaseKeys } from '@airy/box-catalog';
import { ChecksumError, SizeMismatchError } from './download/request.js';

/** The environment variable naming the trusted root, as --trusted-root does. */
export const TRUSTED_ROOT_ENV = 'AIRY_TRUSTED_ROOT';

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
  | 'TUF_UNREACHABLE';

/** A refusal: one line, with its reason code; nothing was written, downloaded or added. */
export class TrustError extends Error {
  constructor(
    readonly reason: TrustReason,
    message: string,
  ) {
    super(`refused (${reason}): ${message}`);
    this.name = 'TrustError';
  }
}

/** How to verify a catalog: the root the user trusts, and where the client keeps what it has seen. */
export interface CatalogTrust {
  /** The trusted root file (`--trusted-root`, `AIRY_TRUSTED_ROOT`). */
  readonly trustedRoot: string;
  /** The cache folder; the TUF metadata lives under its `tuf/` folder, so rollback protection outlasts the run. */
  readonly cacheDir: string;
}

/** The trust of `flag`, else of `AIRY_TRUSTED_ROOT`, else none (verification is opt-in for now). Pure but for `env`. */
export function trustOf(flag: string | undefined, cacheDir: string, env: NodeJS.ProcessEnv = process.env): CatalogTrust | undefined {
  const trustedRoot = flag ?? (env[TRUSTED_ROOT_ENV] || undefined);
  return trustedRoot ? { trustedRoot, cacheDir } : undefined;
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
