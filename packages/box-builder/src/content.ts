/** The box's content manifest, derived from @airy/manifests: the exact images, versions and manifests inside. */
import { createHash } from 'node:crypto';
import { type Architecture, BOX_NAME, type BoxContentManifest, type Provider } from '@airy/box-catalog';
import { boxFiles, boxImages, COMPONENT_VERSIONS } from '@airy/manifests';

/** The rendered manifests the box bakes in (the same as `infrastructure/deployments/`). */
export function boxManifestFiles(): Map<string, string> {
  return boxFiles();
}

/** SHA-256 over the rendered files, names included, in name order. */
export function manifestsHash(files: Map<string, string>): string {
  const hash = createHash('sha256');
  for (const name of [...files.keys()].sort()) hash.update(`${name}\0${files.get(name)}\0`);
  return hash.digest('hex');
}

/** What goes into a content manifest besides the platform's own facts. */
export interface BuildFacts {
  readonly version: string;
  readonly provider: Provider;
  readonly architecture: Architecture;
  readonly createdAt: string;
  readonly gitCommit: string;
  readonly skipped: readonly string[];
  /** The built box file, once it exists. */
  readonly file?: { readonly size: number; readonly sha256: string };
}

/** The content manifest of a box. Pure. */
export function contentManifest(facts: BuildFacts): BoxContentManifest {
  return {
    name: BOX_NAME,
    version: facts.version,
    provider: facts.provider,
    architecture: facts.architecture,
    ...(facts.file ? { size: facts.file.size, sha256: facts.file.sha256 } : {}),
    createdAt: facts.createdAt,
    gitCommit: facts.gitCommit,
    components: { ...COMPONENT_VERSIONS },
    images: boxImages(),
    manifestsHash: manifestsHash(boxManifestFiles()),
    skipped: [...facts.skipped],
  };
}
