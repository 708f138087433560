/**
 * The box's content manifest (`box.json`): what is inside a box file, written beside it by the builder, baked into
 * the box, and checked by readers against the catalog entry.
 */
import { ARCHITECTURES, type Architecture, CatalogError, isVersion, type Provider, PROVIDERS } from './catalog.js';

/** What a box contains, and how to recognise its file. */
export interface BoxContentManifest {
  readonly name: string;
  readonly version: string;
  readonly provider: Provider;
  readonly architecture: Architecture;
  /** The box file's size in bytes and SHA-256 (absent inside the box itself, which cannot know its own hash). */
  readonly size?: number;
  readonly sha256?: string;
  readonly createdAt: string;
  /** The git commit the box was built from, or `unknown`. */
  readonly gitCommit: string;
  /** Exact versions of Kubernetes, Minikube, Istio, Kafka, … */
  readonly components: Readonly<Record<string, string>>;
  /** Every image pre-pulled into the box (`airy-manifests images --profile local`). */
  readonly images: readonly string[];
  /** SHA-256 over the rendered manifests baked into the box, file names included. */
  readonly manifestsHash: string;
  /** Steps of provisioning that were skipped (e.g. `images` for an offline build), so nobody mistakes the box. */
  readonly skipped: readonly string[];
}

/** Parses and checks a content manifest; throws {@link CatalogError}. */
export function parseContentManifest(text: string, source: string): BoxContentManifest {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new CatalogError(source, `not valid JSON (${(error as Error).message})`, 'syntax');
  }
  const need = (ok: boolean, key: string, message: string) => {
    if (!ok) throw new CatalogError(`${source}: ${key}`, message);
  };
  need(typeof data === 'object' && data !== null, '$', 'must be a JSON object');
  need(typeof data.name === 'string', 'name', 'is required');
  need(typeof data.version === 'string' && isVersion(data.version), 'version', 'must be a semantic version');
  need(PROVIDERS.includes(data.provider as Provider), 'provider', `must be one of ${PROVIDERS.join(', ')}`);
  need(ARCHITECTURES.includes(data.architecture as Architecture), 'architecture', `must be one of ${ARCHITECTURES.join(', ')}`);
  need(data.sha256 === undefined || (typeof data.sha256 === 'string' && /^[0-9a-f]{64}$/.test(data.sha256)), 'sha256', 'must be 64 hex digits');
  need(Array.isArray(data.images), 'images', 'must be a list');
  need(typeof data.manifestsHash === 'string', 'manifestsHash', 'is required');
  need(typeof data.components === 'object' && data.components !== null, 'components', 'is required');
  need(data.skipped === undefined || Array.isArray(data.skipped), 'skipped', 'must be a list');
  return { ...(data as unknown as BoxContentManifest), skipped: (data.skipped as string[] | undefined) ?? [] };
}

/** The stored JSON text of a content manifest. */
export function stringifyContentManifest(manifest: BoxContentManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
