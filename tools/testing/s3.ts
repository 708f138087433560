/// <reference path="./s3rver.d.ts" />
/**
 * A real S3-compatible server for tests: s3rver on a free loopback port with its own temp folder.
 *
 * s3rver 3.7 lacks three S3 operations that AWS, MinIO and R2 have: conditional PUT (If-Match, If-None-Match),
 * AbortMultipartUpload, and listing open multipart uploads. With `conditional: true` this harness adds the first
 * two in front of s3rver's own storage, the way S3 defines them (412 on a failed condition, atomic per key), and
 * `openUploads()` reads s3rver's folder of unfinished uploads.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/** A running server: its endpoint, a client for it, and its teardown. */
export interface TestS3 {
  readonly endpoint: string;
  readonly bucket: string;
  readonly client: S3Client;
  /** Multipart uploads started and neither completed nor aborted. */
  openUploads(): string[];
  /** Every request the server saw, as `METHOD path?query`. */
  readonly requests: string[];
  stop(): Promise<void>;
}

/** s3rver accepts only this key pair. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

type Ctx = {
  method: string;
  path: string;
  querystring: string;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
  status: number;
  body: unknown;
  store: { getMetadata(bucket: string, key: string): Promise<{ etag?: string }> };
};

/** Starts s3rver with one bucket. */
export async function startS3(
  options: {
    conditional?: boolean;
    bucket?: string;
    /** Answer 500 to every upload of this part number and above: a server failing mid-upload. */
    failPartsFrom?: number;
  } = {},
): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), 'airy-s3rver-'));
  const bucket = options.bucket ?? 'airy-boxes';
  const server = new S3rver({ port: 0, address: '127.0.0.1', directory: dir, silent: true });
  const requests: string[] = [];
  const uploadsDir = join(dir, bucket, '._S3rver_uploads');
  const locks = new Map<string, Promise<void>>();
  const middleware = async (ctx: Ctx, next: () => Promise<void>) => {
    requests.push(`${ctx.method} ${ctx.path}${ctx.querystring ? `?${ctx.querystring}` : ''}`);
    if (options.failPartsFrom && ctx.method === 'PUT' && Number(ctx.query.partNumber) >= options.failPartsFrom) {
      ctx.status = 500;
      ctx.body = '<Error><Code>InternalError</Code><Message>injected failure</Message></Error>';
      return;
    }
    if (!options.conditional) return next();
    const [, b, ...rest] = ctx.path.split('/');
    const key = decodeURIComponent(rest.join('/'));
    if (ctx.method === 'DELETE' && ctx.query.uploadId) {
      rmSync(join(dir, b ?? '', '._S3rver_uploads', ctx.query.uploadId), { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    const ifMatch = ctx.headers['if-match'];
    const ifNoneMatch = ctx.headers['if-none-match'];
    if (ctx.method !== 'PUT' || (!ifMatch && !ifNoneMatch) || ctx.query.uploadId) return next();
    // One conditional write per key at a time, as S3 makes them atomic.
    const lockKey = `${b}/${key}`;
    const previous = locks.get(lockKey) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    locks.set(lockKey, previous.then(() => mine));
    await previous;
    try {
      const etag = await ctx.store.getMetadata(b ?? '', key).then(
        (m) => m.etag,
        () => undefined,
      );
      if ((ifNoneMatch === '*' && etag) || (ifMatch && ifMatch !== etag)) {
        ctx.status = 412;
        ctx.body = '<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>';
        return;
      }
      await next();
    } finally {
      release();
    }
  };
  (server as unknown as { middleware: unknown[] }).middleware.unshift(middleware);
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    endpoint,
    bucket,
    client,
    requests,
    openUploads: () => {
      try {
        return readdirSync(uploadsDir);
      } catch {
        return [];
      }
    },
    async stop() {
      client.destroy();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
