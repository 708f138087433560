/**
 * Exact versions of the workspace's own tooling. One home: every projen helper reads them from here.
 * Runtime versions of the platform (Kafka, Istio, …) live in @airy/manifests, not here.
 */
export const TOOLING = {
  node: '>=20',
  typescript: '5.9.3',
  typesNode: '^20',
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
  typesCliProgress: '3.11.6',
  s3rver: '3.7.1',
  ngrok: '1.7.0',
} as const;

/** The npm scope every Airy package is published under. */
export const SCOPE = '@airy';
