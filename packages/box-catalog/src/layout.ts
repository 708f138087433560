/**
 * Where everything of a published box lives, relative to the catalog's base (an S3 prefix, a folder or a URL).
 * One home, so the publisher and every reader agree.
 */
import type { Architecture, Provider } from './catalog.js';
import { chunkIndexName } from './chunks.js';

/** The box's name in Vagrant (`vagrant box list`). */
export const BOX_NAME = 'airy/core';

/** The catalog's description. */
export const BOX_DESCRIPTION = 'Airy Core Platform: Minikube with Kafka, Schema Registry, PostgreSQL and Istio preloaded';

/** The catalog file, which Vagrant reads. */
export const CATALOG_FILE = 'metadata.json';

/** The box file's name for a version and provider. */
export function boxFileName(version: string, provider: Provider): string {
  return `airy-core-${version}-${provider}.box`;
}

/** Relative keys of one release's objects. */
export function releaseKeys(version: string, provider: Provider, architecture: Architecture) {
  const dir = `boxes/${version}`;
  return {
    box: `${dir}/${boxFileName(version, provider)}`,
    /** The box's content manifest (box.json), beside it. */
    contentManifest: `${dir}/${provider}-${architecture}.box.json`,
    /** The box's chunk index, beside it: what a delta download reads. */
    chunks: `${dir}/${chunkIndexName(boxFileName(version, provider))}`,
    /** The immutable record of this release; the catalog is rebuilt from these. */
    record: `releases/${version}/${provider}-${architecture}.json`,
  };
}

/** The prefix under which every release record lives. */
export const RELEASES_PREFIX = 'releases/';

/**
 * Whether a key a store lists is one {@link releaseKeys} would write (`releases/<version>/<provider>-<arch>.json`):
 * any other is not read, and never printed, whatever characters a store put in it.
 */
export function isReleaseRecordKey(key: string): boolean {
  return /^releases\/[0-9][0-9A-Za-z.+-]{0,127}\/[a-z0-9]{1,32}-[a-z0-9]{1,32}\.json$/.test(key);
}

/** The key of a channel pointer. */
export function channelKey(channel: string): string {
  return `channels/${channel}.json`;
}

/** Joins a base URL (ending in `/` or not) and a relative key. */
export function joinUrl(base: string, key: string): string {
  return `${base.replace(/\/+$/, '')}/${key}`;
}

/** The base URL of a catalog URL (`…/metadata.json` → `…`). */
export function catalogBase(catalogUrl: string): string {
  return catalogUrl.endsWith(`/${CATALOG_FILE}`) ? catalogUrl.slice(0, -CATALOG_FILE.length - 1) : catalogUrl.replace(/\/+$/, '');
}
