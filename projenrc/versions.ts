/**
 * Exact versions of every npm package the workspace and its packages depend on. One home: `.projenrc.ts` and every
 * projen helper read them from here. Runtime versions of the platform (Kafka, Istio, …) live in @airy/manifests.
 */
export const TOOLING = {
  /**
   * What the workspace itself (this repository's scripts, tests and CLIs in development) runs on: the highest Node a
   * published package needs. The README's commands bring it through `tools/with-node.sh 22+` on an older machine.
   */
  node: '>=22',
  typescript: '5.9.3',
  typesNode: '^22',
  tsx: '4.23.15',
  uvu: '0.5.6',
  zx: '8.8.5',
  nx: '22.6.1',
  biome: '2.6.8',
  commander: '14.0.3',
  semver: '7.8.6',
  typesSemver: '7.8.0',
  awsSdk: '3.1175.0',
  cliProgress: '3.12.0',
  /** Shell completion of every CLI (bash, zsh, fish, PowerShell), from the commander program itself. */
  tab: '0.0.22',
  levenshtein: '1.0.16',
  /** Checks .github/workflows against GitHub's workflow schema (the release cannot run here). */
  actionValidator: '0.6.0',
  /** The release flow: change entries in .changeset/, one version for every package (npx projen release:version). */
  changesets: '3.0.3',
  typesCliProgress: '3.11.6',
  s3rver: '3.7.1',
  ngrok: '1.7.0',
  verdaccio: '6.8.0',
  playwrightCore: '1.65.1',
  /**
   * The signed catalog (TUF): tuf-js is the client npm itself relies on, @tufjs/models its metadata and signing.
   * Pinned to the last releases that run on Node 20 (6.x and 5.x need 22); tuf-js pins its models exactly.
   */
  tufJs: '5.0.1',
  tufModels: '4.1.1',
  constructs: '10.8.1',
  yaml: '2.9.1',
  /** kubernetes-models needs exact pins: on Node 20 npm would otherwise pick older releases by `engines`. */
  kubernetesModels: '5.1.0',
  kubernetesModelsIstio: '3.0.1',
  /**
   * The one schema library: @airy/manifests' options (the type's check, YAML 1.1 booleans refused by key), and the
   * JSON state files of cli-kit and bootstrap.
   */
  valibot: '1.5.0',
  /** Each package's public API report (`packages/X/api/X.api.md`), checked by every package's tests. */
  apiExtractor: '7.60.2',
  /** The `overrides` pin Verdaccio needs on Node 20 (see .projenrc.ts). */
  nodeFetch: '2.7.0',
} as const;

/**
 * The release: every published package carries this version, and their dependencies on each other are `^` ranges of
 * it. `npx projen release:version` changes it (after `changeset version`, with the CHANGELOGs); nothing else writes it.
 */
export const RELEASE = {
  version: '0.1.0',
  /**
   * The Node.js versions a published package supports: the range its runtime dependencies declare. Packages with
   * Kubernetes schema code (kubernetes-models 5 and @kubernetes-models/* say >=22) need 22; the laptop ones
   * (bootstrap and what it pulls in) run on 20. CI runs every test on Node 22 and the light packages' tests again
   * on Node 20 (`npx projen test:node20`).
   */
  node: { withSchemas: '>=22', light: '>=20' },
  // The form npm writes itself at publish (it warns when it has to normalise another one).
  repository: 'git+https://github.com/airyhq/airy-infrastructure.git',
  homepage: 'https://github.com/airyhq/airy-infrastructure#readme',
  bugs: 'https://github.com/airyhq/airy-infrastructure/issues',
} as const;

/** The npm scope every Airy package is published under. */
export const SCOPE = '@airy';
