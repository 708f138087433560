/**
 * The Vagrant box catalog (`metadata.json`) that `vagrant box add <url>` and `vagrant box update` read, plus the
 * channel pointers (`channels/<name>.json`) that say which version `latest` is. Pure: parsing, checking, adding
 * a release and choosing a version. Box-builder writes catalogs; bootstrap reads them.
 */
import semver from 'semver';

/** Vagrant providers the box is built for. */
export const PROVIDERS = ['virtualbox', 'libvirt'] as const;
/** `virtualbox` or `libvirt`. */
export type Provider = (typeof PROVIDERS)[number];

/** Architectures, in Vagrant's names. */
export const ARCHITECTURES = ['amd64', 'arm64'] as const;
/** `amd64` or `arm64`. */
export type Architecture = (typeof ARCHITECTURES)[number];

/**
 * Node's `process.arch` in the catalog's (Vagrant's) names, or undefined for a machine no box is built for (ia32,
 * 32-bit arm, ppc64, s390x…): such a host runs no box at native speed, so the caller chooses what to do.
 */
export function vagrantArchitecture(nodeArch: string = process.arch): Architecture | undefined {
  return nodeArch === 'x64' ? 'amd64' : nodeArch === 'arm64' ? 'arm64' : undefined;
}

/** One downloadable box file of a version. */
export interface CatalogProvider {
  readonly name: Provider;
  readonly url: string;
  readonly checksum_type: 'sha256';
  readonly checksum: string;
  readonly architecture: Architecture;
  readonly default_architecture?: boolean;
  /** Size in bytes (ours; Vagrant ignores it). */
  readonly size?: number;
  /** The box's chunk index (ours; Vagrant and older bootstraps ignore it): a delta download reads it. */
  readonly chunks_url?: string;
}

/** One version of the box. */
export interface CatalogVersion {
  readonly version: string;
  readonly status?: string;
  readonly description_markdown?: string;
  readonly providers: readonly CatalogProvider[];
}

/** The whole catalog, as Vagrant reads it. Versions are kept newest first. */
export interface BoxCatalog {
  readonly name: string;
  readonly description?: string;
  readonly versions: readonly CatalogVersion[];
}

/** Which version a channel (e.g. `latest`) points at. */
export interface ChannelPointer {
  readonly channel: string;
  readonly version: string;
  readonly updatedAt: string;
}

/** A catalog, channel or content manifest that is not what it should be; `where` names the source and field. */
export class CatalogError extends Error {
  constructor(
    readonly where: string,
    message: string,
    /** `syntax`: the text is not JSON at all (perhaps a write still in progress); `content`: it breaks a rule. */
    readonly kind: 'syntax' | 'content' = 'content',
  ) {
    super(`${where}: ${message}`);
    this.name = 'CatalogError';
  }
}

/**
 * A sound catalog without the release asked for (no such version, or no box for the provider and architecture):
 * the request is what to change, not the catalog.
 */
export class ReleaseNotFoundError extends CatalogError {
  constructor(where: string, message: string) {
    super(where, message);
    this.name = 'ReleaseNotFoundError';
  }
}

/** Refused: the version is already published with other content. Versions are immutable. */
export class ImmutableVersionError extends Error {
  constructor(
    readonly version: string,
    readonly provider: string,
    readonly architecture: string,
  ) {
    super(
      `version ${version} (${provider}, ${architecture}) is already published with a different checksum: versions are immutable, publish a new version`,
    );
    this.name = 'ImmutableVersionError';
  }
}

const SHA256 = /^[0-9a-f]{64}$/;
const CHANNEL = /^[a-z][a-z0-9-]{0,31}$/;
// Vagrant's `org/name`. The name reaches Vagrantfiles (Ruby), shells and paths, so nothing else is allowed.
const BOX_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\/[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** The URL schemes a box file may be fetched from. */
export const BOX_URL_SCHEMES = ['https:', 'http:', 'file:'] as const;

/** A box name as Vagrant writes it, `org/name`, of letters, digits, `.`, `_` and `-` only. */
export function isBoxName(value: string): boolean {
  return BOX_NAME_PATTERN.test(value);
}

/** A strict semantic version, as every catalog version must be. */
export function isVersion(value: string): boolean {
  return semver.valid(value) === value;
}

/** A channel name such as `latest` or `beta`. */
export function isChannel(value: string): boolean {
  return CHANNEL.test(value);
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CatalogError(source, `not valid JSON (${(error as Error).message})`, 'syntax');
  }
}

function field<T>(ok: boolean, where: string, message: string, value: T): T {
  if (!ok) throw new CatalogError(where, message);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isBoxUrl(value: unknown): boolean {
  if (typeof value !== 'string' || value.length === 0) return false;
  try {
    return (BOX_URL_SCHEMES as readonly string[]).includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function checkProvider(p: unknown, where: string): CatalogProvider {
  if (!isObject(p)) throw new CatalogError(where, 'must be an object');
  const name = p.name as Provider;
  field(PROVIDERS.includes(name), `${where}.name`, `unknown provider "${String(p.name)}" (allowed: ${PROVIDERS.join(', ')})`, 0);
  field(isBoxUrl(p.url), `${where}.url`, `must be an ${BOX_URL_SCHEMES.map((s) => s.slice(0, -1)).join(', ')} URL`, 0);
  field(p.checksum_type === 'sha256', `${where}.checksum_type`, 'must be sha256', 0);
  field(typeof p.checksum === 'string' && SHA256.test(p.checksum), `${where}.checksum`, 'must be 64 lowercase hex digits', 0);
  const architecture = (p.architecture ?? 'amd64') as Architecture;
  field(ARCHITECTURES.includes(architecture), `${where}.architecture`, `unknown architecture (allowed: ${ARCHITECTURES.join(', ')})`, 0);
  if (p.size !== undefined) field(Number.isSafeInteger(p.size) && (p.size as number) >= 0, `${where}.size`, 'must be a byte count', 0);
  if (p.chunks_url !== undefined) field(isBoxUrl(p.chunks_url), `${where}.chunks_url`, `must be an ${BOX_URL_SCHEMES.map((s) => s.slice(0, -1)).join(', ')} URL`, 0);
  return { ...(p as unknown as CatalogProvider), architecture };
}

/** The immutable record of one published box file, under `releases/`; the catalog is rebuilt from these. */
export interface ReleaseRecord {
  readonly version: string;
  readonly provider: CatalogProvider;
  readonly publishedAt: string;
}

/**
 * Parses and checks a release record with the catalog's own rules (version, provider, URL scheme, sha256,
 * architecture, size), and that it is the record its key names (`releases/VERSION/PROVIDER-ARCH.json`), so that
 * a damaged or hostile record in the store never reaches the catalog. Throws {@link CatalogError}.
 */
export function parseReleaseRecord(text: string, key: string): ReleaseRecord {
  const data = parseJson(text, key);
  if (!isObject(data)) throw new CatalogError(key, 'is not a release record');
  const version = data.version;
  field(typeof version === 'string' && isVersion(version), `${key}.version`, 'must be a semantic version', 0);
  const provider = checkProvider(data.provider, `${key}.provider`);
  const expected = `releases/${version}/${provider.name}-${provider.architecture}.json`;
  field(key.endsWith(expected), key, `holds ${version} ${provider.name}/${provider.architecture}, which belongs in ${expected}`, 0);
  const publishedAt = typeof data.publishedAt === 'string' ? data.publishedAt : '';
  return { version: version as string, provider, publishedAt };
}

/** Parses and checks a catalog; throws {@link CatalogError} naming the source and the field. */
export function parseCatalog(text: string, source: string): BoxCatalog {
  const data = parseJson(text, source);
  field(typeof data === 'object' && data !== null && !Array.isArray(data), source, 'must be a JSON object', 0);
  const c = data as Record<string, unknown>;
  field(
    typeof c.name === 'string' && isBoxName(c.name),
    `${source}: name`,
    'must be a box name org/name of letters, digits, ".", "_" and "-"',
    0,
  );
  field(Array.isArray(c.versions), `${source}: versions`, 'must be a list', 0);
  const seen = new Set<string>();
  const versions = (c.versions as unknown[]).map((item, i) => {
    const where = `${source}: versions[${i}]`;
    if (!isObject(item)) throw new CatalogError(where, 'must be an object');
    const v = item;
    field(typeof v.version === 'string' && isVersion(v.version), `${where}.version`, `"${String(v.version)}" is not a semantic version`, 0);
    field(!seen.has(v.version as string), `${where}.version`, `${String(v.version)} is listed twice`, 0);
    seen.add(v.version as string);
    field(Array.isArray(v.providers), `${where}.providers`, 'must be a list', 0);
    const providers = (v.providers as unknown[]).map((p, j) => checkProvider(p, `${where}.providers[${j}]`));
    return { ...(v as unknown as CatalogVersion), providers };
  });
  return { ...(c as unknown as BoxCatalog), versions: sortVersions(versions) };
}

/** Versions newest first. */
export function sortVersions(versions: readonly CatalogVersion[]): CatalogVersion[] {
  return [...versions].sort((a, b) => semver.rcompare(a.version, b.version));
}

/** An empty catalog for a box name. */
export function emptyCatalog(name: string, description?: string): BoxCatalog {
  if (!isBoxName(name)) throw new CatalogError('name', `"${name}" is not a box name org/name of letters, digits, ".", "_" and "-"`);
  return { name, ...(description ? { description } : {}), versions: [] };
}

/** The result of adding a release: the new catalog, or `unchanged` when the same release was already there. */
export interface AddResult {
  readonly catalog: BoxCatalog;
  readonly unchanged: boolean;
}

/**
 * Adds one provider file of one version. The same file again is a no-op; a different checksum for a published
 * version, provider and architecture throws {@link ImmutableVersionError}.
 */
export function addRelease(catalog: BoxCatalog, version: string, provider: CatalogProvider): AddResult {
  if (!isVersion(version)) throw new CatalogError('version', `"${version}" is not a semantic version`);
  const existing = catalog.versions.find((v) => v.version === version);
  const same = existing?.providers.find((p) => p.name === provider.name && p.architecture === provider.architecture);
  if (same) {
    if (same.checksum !== provider.checksum) throw new ImmutableVersionError(version, provider.name, provider.architecture);
    return { catalog, unchanged: true };
  }
  const entry: CatalogVersion = existing
    ? { ...existing, providers: [...existing.providers, provider] }
    : { version, status: 'active', providers: [provider] };
  const versions = sortVersions([...catalog.versions.filter((v) => v.version !== version), entry]);
  return { catalog: { ...catalog, versions }, unchanged: false };
}

/** The catalog as the JSON text that is stored (stable key order, newest version first, trailing newline). */
export function stringifyCatalog(catalog: BoxCatalog): string {
  return `${JSON.stringify({ ...catalog, versions: sortVersions(catalog.versions) }, null, 2)}\n`;
}

/** Parses a channel pointer. */
export function parseChannel(text: string, source: string): ChannelPointer {
  const data = parseJson(text, source) as Record<string, unknown>;
  field(typeof data === 'object' && data !== null, source, 'must be a JSON object', 0);
  field(typeof data.channel === 'string' && isChannel(data.channel), `${source}: channel`, 'must be a channel name', 0);
  field(typeof data.version === 'string' && isVersion(data.version), `${source}: version`, 'must be a semantic version', 0);
  return data as unknown as ChannelPointer;
}

/** A channel pointer's stored JSON text. */
export function stringifyChannel(pointer: ChannelPointer): string {
  return `${JSON.stringify(pointer, null, 2)}\n`;
}

/** What a reader asks for: a channel name (`latest`), or an exact version. */
export type VersionRequest = { readonly channel: string } | { readonly version: string };

/**
 * Picks the version to use. A channel follows its pointer when there is one (so a rollback moves it back), and
 * otherwise means the newest version. The chosen version must have a file for `provider` on `architecture`.
 */
export function resolveRelease(
  catalog: BoxCatalog,
  request: VersionRequest,
  provider: Provider,
  architecture: Architecture,
  pointer?: ChannelPointer,
): { version: CatalogVersion; file: CatalogProvider } {
  let version: CatalogVersion | undefined;
  if ('version' in request) {
    version = catalog.versions.find((v) => v.version === request.version);
    if (!version) {
      const known = catalog.versions.map((v) => v.version).join(', ') || 'none';
      throw new ReleaseNotFoundError(catalog.name, `has no version ${request.version} (published: ${known})`);
    }
  } else if (pointer && pointer.channel === request.channel) {
    version = catalog.versions.find((v) => v.version === pointer.version);
    if (!version) throw new CatalogError(catalog.name, `channel ${request.channel} points at ${pointer.version}, which is not in the catalog`);
  } else {
    version = sortVersions(catalog.versions).find((v) => v.providers.some((p) => p.name === provider && p.architecture === architecture));
    if (!version) throw new ReleaseNotFoundError(catalog.name, `has no version for ${provider} on ${architecture}`);
  }
  const file = version.providers.find((p) => p.name === provider && p.architecture === architecture);
  if (!file) {
    const offered = version.providers.map((p) => `${p.name}/${p.architecture}`).join(', ');
    throw new ReleaseNotFoundError(catalog.name, `version ${version.version} has no box for ${provider} on ${architecture} (it has: ${offered})`);
  }
  return { version, file };
}

/** Whether version `a` is newer than `b`. */
export function isNewerVersion(a: string, b: string): boolean {
  return semver.gt(a, b);
}
