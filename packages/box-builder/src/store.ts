/**
 * The narrow interface publishing needs from where boxes are kept: an S3 bucket prefix, or a local folder.
 * Both implementations live beside this file; publishing logic (publish.ts) sees only this.
 */

/** A small stored object (catalog, record, pointer) and its version tag. */
export interface StoredObject {
  readonly body: string;
  readonly etag: string;
}

/** Progress of an upload, in bytes. */
export type UploadProgress = (sent: number, total: number) => void;

/** How to upload a large file. */
export interface UploadOptions {
  readonly size: number;
  readonly sha256: string;
  /** Multipart part size in bytes. */
  readonly partSize: number;
  /** Parts in flight at once. Memory stays within about partSize × concurrency. */
  readonly concurrency: number;
  readonly onProgress?: UploadProgress;
  readonly signal?: AbortSignal;
}

/** Conditions on a write: `ifMatch` an etag (read-modify-write), or `ifNoneMatch` (create only). */
export interface WriteCondition {
  readonly ifMatch?: string;
  readonly ifNoneMatch?: boolean;
}

/** A conditional write lost a race: someone else changed the object first. Read again and retry. */
export class PreconditionFailedError extends Error {
  constructor(readonly key: string) {
    super(`${key} changed while we were writing it`);
    this.name = 'PreconditionFailedError';
  }
}

/**
 * A conditional write found its key locked by another writer that may still be running; the message says who
 * holds it and how to clear it. Retried like any lost race, and reported as it is when it does not clear.
 */
export class StoreLockedError extends PreconditionFailedError {
  constructor(key: string, message: string) {
    super(key);
    this.message = message;
    this.name = 'StoreLockedError';
  }
}

/** Where boxes, records, the catalog and channel pointers are kept. Keys are relative to the store's base. */
export interface ObjectStore {
  /** For messages: `s3://bucket/prefix` or `file:///dir`. */
  readonly location: string;
  /** The URL a downloader (Vagrant, bootstrap) uses for `key`. */
  url(key: string): string;
  get(key: string): Promise<StoredObject | undefined>;
  put(key: string, body: string, condition?: WriteCondition): Promise<void>;
  list(prefix: string): Promise<string[]>;
  /** Size and our SHA-256 (from the object's metadata) of a stored object. */
  head(key: string): Promise<{ size: number; sha256?: string } | undefined>;
  /** Uploads a large file; on any failure nothing is left behind (multipart aborted, temp file removed). */
  upload(key: string, file: string, options: UploadOptions): Promise<void>;
}
