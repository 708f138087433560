/** The S3 implementation of {@link ObjectStore}: AWS S3 and S3-compatible stores (MinIO, R2, s3rver). */
import { open } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { backoffMs } from '@airy/cli-kit';
import { type ObjectStore, PreconditionFailedError, type StoredObject, type UploadOptions, type WriteCondition } from './store.js';

/** Where in S3: a bucket and a key prefix (no leading or trailing slash). */
export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

/** Parses `s3://bucket/prefix`; returns `undefined` for anything else. */
export function parseS3Url(url: string): S3Location | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!match) return undefined;
  return { bucket: match[1] as string, prefix: (match[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

/** Connection settings; everything else (credentials, profile) comes from the AWS SDK's standard chain. */
export interface S3Settings {
  /** `--endpoint`, else `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL` (the SDK reads those itself). */
  readonly endpoint?: string;
  readonly region?: string;
  /** Base URL that downloaders use, e.g. a CDN. @default the bucket's own URL */
  readonly publicUrl?: string;
}

/** An S3 client that works with AWS and with S3-compatible stores. */
export function s3Client(settings: S3Settings): S3Client {
  const endpoint = settings.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  const config: S3ClientConfig = {
    region: settings.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    // MinIO, R2 and older stores reject the newer default checksum modes; S3 needs none of them here.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 5,
  };
  return new S3Client(config);
}

const status = (error: unknown) => (error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined);

/** How long one store call (a get, list, head, put) may take before it is given up, by default. */
export const STORE_CALL_DEADLINE_MS = 60_000;

/** A store call did not finish within its deadline (a store that trickles, or hangs). */
export class StoreDeadlineError extends Error {
  constructor(what: string, seconds: number) {
    super(`the store did not finish ${what} within ${seconds} s`);
    this.name = 'StoreDeadlineError';
  }
}

/**
 * When store calls give up: `signal` (the user's stop) ends every call at once, and each call has a deadline of
 * its own, so a store that trickles can neither hang a publish nor outlive SIGTERM.
 */
export interface StoreLimits {
  readonly signal?: AbortSignal;
  /** @default {@link STORE_CALL_DEADLINE_MS} */
  readonly deadlineMs?: number;
  /** The deadline of one part of a multipart upload. @default 30 min */
  readonly partDeadlineMs?: number;
}

/** An {@link ObjectStore} on an S3 bucket prefix. */
export class S3Store implements ObjectStore {
  readonly location: string;
  private readonly publicBase: string;

  constructor(
    private readonly client: S3Client,
    private readonly where: S3Location,
    settings: S3Settings,
    private readonly limits: StoreLimits = {},
  ) {
    this.location = `s3://${where.bucket}${where.prefix ? `/${where.prefix}` : ''}`;
    const endpoint = settings.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
    const region = settings.region ?? process.env.AWS_REGION ?? 'us-east-1';
    this.publicBase = (
      settings.publicUrl ??
      (endpoint ? `${endpoint.replace(/\/+$/, '')}/${where.bucket}` : `https://${where.bucket}.s3.${region}.amazonaws.com`)
    ).replace(/\/+$/, '');
  }

  private key(key: string): string {
    return this.where.prefix ? `${this.where.prefix}/${key}` : key;
  }

  /**
   * Sends a command with the stop signal and a deadline; a deadline that passes is a {@link StoreDeadlineError},
   * a stop the SDK's AbortError. `stoppable: false` for the clean-up that must run after a stop.
   */
  private async send<T>(
    what: string,
    // biome-ignore lint/suspicious/noExplicitAny: every S3 command goes through here; each caller names its output type.
    command: any,
    options: { deadlineMs?: number; stoppable?: boolean; signal?: AbortSignal; read?: (out: T) => Promise<unknown> } = {},
  ): Promise<T> {
    const deadlineMs = options.deadlineMs ?? this.limits.deadlineMs ?? STORE_CALL_DEADLINE_MS;
    const deadline = AbortSignal.timeout(deadlineMs);
    const stops = options.stoppable === false ? [] : [this.limits.signal, options.signal].filter((x): x is AbortSignal => x !== undefined);
    const signals = [deadline, ...stops];
    const abortSignal = AbortSignal.any(signals);
    try {
      const out = (await this.client.send(command, { abortSignal })) as T;
      // A body is read under the same signal: a store that trickles it is cut off too.
      if (options.read) await options.read(out);
      return out;
    } catch (error) {
      if (deadline.aborted && !stops.some((x) => x.aborted)) throw new StoreDeadlineError(what, Math.round(deadlineMs / 1000));
      throw error;
    }
  }

  url(key: string): string {
    return `${this.publicBase}/${this.key(key)}`;
  }

  async get(key: string): Promise<StoredObject | undefined> {
    // The SDK retries requests, but not a body cut off after the response began: retry that here.
    for (let attempt = 0; ; attempt++) {
      try {
        let body = '';
        const out = await this.send<{ ETag?: string; Body?: { transformToString(e: string): Promise<string> } }>(
          `reading ${key}`,
          new GetObjectCommand({ Bucket: this.where.bucket, Key: this.key(key) }),
          { read: async (o) => (body = (await o.Body?.transformToString('utf8')) ?? '') },
        );
        return { body, etag: out.ETag ?? '' };
      } catch (error) {
        if (status(error) === 404) return undefined;
        if (error instanceof StoreDeadlineError || this.limits.signal?.aborted) throw error;
        const cut = (error as Error).message === 'aborted' || (error as NodeJS.ErrnoException).code === 'ECONNRESET';
        if (!cut || attempt >= 4) throw error;
        await delay(backoffMs(attempt, 50));
      }
    }
  }

  async put(key: string, body: string, condition: WriteCondition = {}): Promise<void> {
    try {
      await this.send(
        `writing ${key}`,
        new PutObjectCommand({
          Bucket: this.where.bucket,
          Key: this.key(key),
          Body: body,
          ContentType: 'application/json',
          CacheControl: 'no-cache',
          ...(condition.ifMatch ? { IfMatch: condition.ifMatch } : {}),
          ...(condition.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
        }),
      );
    } catch (error) {
      // 412: the condition failed; 409: a concurrent conditional write is in progress.
      if (status(error) === 412 || status(error) === 409) throw new PreconditionFailedError(key);
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    const base = this.where.prefix ? `${this.where.prefix}/` : '';
    let token: string | undefined;
    do {
      const out = await this.send<{ Contents?: { Key?: string }[]; IsTruncated?: boolean; NextContinuationToken?: string }>(
        `listing ${prefix}`,
        new ListObjectsV2Command({
          Bucket: this.where.bucket,
          Prefix: base + prefix,
          ContinuationToken: token,
        }),
      );
      for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key.slice(base.length));
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  async head(key: string): Promise<{ size: number; sha256?: string } | undefined> {
    try {
      const out = await this.send<{ ContentLength?: number; Metadata?: Record<string, string> }>(
        `checking ${key}`,
        new HeadObjectCommand({
          Bucket: this.where.bucket,
          Key: this.key(key),
        }),
      );
      return { size: out.ContentLength ?? 0, sha256: out.Metadata?.sha256 };
    } catch (error) {
      if (status(error) === 404) return undefined;
      throw error;
    }
  }

  /**
   * Multipart upload that reads the file part by part at offsets (memory: partSize × concurrency), and on any
   * failure or abort waits for the parts in flight and then aborts the upload, so no parts are left behind.
   * Parts are retried by the SDK's own retry strategy.
   */
  async upload(key: string, file: string, options: UploadOptions): Promise<void> {
    const Bucket = this.where.bucket;
    const Key = this.key(key);
    const created = await this.send<{ UploadId?: string }>(
      `starting the upload of ${key}`,
      new CreateMultipartUploadCommand({
        Bucket,
        Key,
        ContentType: 'application/octet-stream',
        Metadata: { sha256: options.sha256 },
      }),
    );
    const UploadId = created.UploadId as string;
    // S3 allows at most 10,000 parts: grow the part size for very large files.
    const partSize = Math.max(options.partSize, Math.ceil(options.size / 10_000));
    const count = Math.max(1, Math.ceil(options.size / partSize));
    const etags: string[] = new Array(count);
    const handle = await open(file, 'r');
    let next = 0;
    let sent = 0;
    let failure: unknown;
    const worker = async () => {
      const buffer = Buffer.alloc(partSize);
      while (failure === undefined && next < count) {
        const index = next++;
        if (options.signal?.aborted) throw abortError();
        const offset = index * partSize;
        const { bytesRead } = await handle.read(buffer, 0, Math.min(partSize, options.size - offset), offset);
        const out = await this.send<{ ETag?: string }>(
          `part ${index + 1} of ${key}`,
          new UploadPartCommand({
            Bucket,
            Key,
            UploadId,
            PartNumber: index + 1,
            Body: buffer.subarray(0, bytesRead),
          }),
          { deadlineMs: this.limits.partDeadlineMs ?? 30 * 60_000, signal: options.signal },
        );
        if (options.signal?.aborted) throw abortError();
        etags[index] = out.ETag as string;
        sent += bytesRead;
        options.onProgress?.(sent, options.size);
      }
    };
    try {
      const workers = Array.from({ length: Math.min(options.concurrency, count) }, () =>
        worker().catch((error) => {
          failure ??= error;
        }),
      );
      await Promise.all(workers);
      if (failure !== undefined) throw failure;
      if (options.signal?.aborted) throw abortError();
      await this.send(
        `completing the upload of ${key}`,
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      );
    } catch (error) {
      // Runs after a stop too (never stoppable), with its own deadline: no parts are left behind.
      await this.send(`aborting the upload of ${key}`, new AbortMultipartUploadCommand({ Bucket, Key, UploadId }), {
        stoppable: false,
        deadlineMs: 15_000,
      }).catch(() => undefined);
      throw error;
    } finally {
      await handle.close();
    }
  }
}

function abortError(): Error {
  return Object.assign(new Error('the upload was aborted'), { name: 'AbortError' });
}
