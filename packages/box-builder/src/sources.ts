/**
 * Opening a catalog location for reading or publishing: `s3://bucket/prefix`, `file:///dir`, or (read-only)
 * `http(s)://…`. One place that turns a URL into an {@link ObjectStore}.
 */
import { fileURLToPath } from 'node:url';
import { catalogBase, displayUrl, fetchCatalogDocument } from '@airy/box-catalog';
import { AiryError } from '@airy/cli-kit';
import { FileStore } from './file-store.js';
import { parseS3Url, type S3Settings, S3Store, s3Client, type StoreLimits } from './s3-store.js';
import type { ObjectStore, StoredObject } from './store.js';

/** Opens a store to publish into. */
export function openStore(url: string, settings: S3Settings, limits: StoreLimits = {}, log?: (line: string) => void): ObjectStore {
  const s3 = parseS3Url(url);
  if (s3) return new S3Store(s3Client(settings), s3, settings, limits);
  if (url.startsWith('file://')) return new FileStore(fileURLToPath(url), settings.publicUrl, { log });
  throw new AiryError('STORE_URL_INVALID', `--to ${url}: use s3://bucket/prefix or file:///absolute/folder`);
}

/** Reads objects under a catalog base, for `catalog list|show`. */
export interface CatalogReader {
  readonly location: string;
  get(key: string): Promise<StoredObject | undefined>;
}

/** Opens a catalog for reading; http(s) needs no credentials. */
export function openReader(url: string, settings: S3Settings): CatalogReader {
  const base = catalogBase(url);
  if (!/^https?:\/\//.test(url)) {
    try {
      return openStore(base, settings);
    } catch {
      throw new AiryError('STORE_URL_INVALID', `--from ${url}: use s3://bucket/prefix, file:///folder or http(s)://…/metadata.json`);
    }
  }
  return {
    location: displayUrl(base),
    async get(key) {
      // Bounded in time and size, like every catalog read (a reader needs no ETag: it never writes).
      const body = await fetchCatalogDocument(`${base}/${key}`);
      return body === undefined ? undefined : { body, etag: '' };
    },
  };
}
