/** The S3 implementation of {@link ObjectStore}: AWS S3 and S3-compatible stores (MinIO, R2, s3rver). */
import { open } from "node:fs/promises";
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
} from "@aws-sdk/client-s3";
import {
	type ObjectStore,
	PreconditionFailedError,
	type StoredObject,
	type UploadOptions,
	type WriteCondition,
} from "./store.js";

/** Where in S3: a bucket and a key prefix (no leading or trailing slash). */
export interface S3Location {
	readonly bucket: string;
	readonly prefix: string;
}

/** Parses `s3://bucket/prefix`; returns `undefined` for anything else. */
export function parseS3Url(url: string): S3Location | undefined {
	const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(
		url,
	);
	if (!match) return undefined;
	return {
		bucket: match[1] as string,
		prefix: (match[2] ?? "").replace(/^\/+|\/+$/g, ""),
	};
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
	const endpoint =
		settings.endpoint ??
		process.env.AWS_ENDPOINT_URL_S3 ??
		process.env.AWS_ENDPOINT_URL;
	const config: S3ClientConfig = {
		region:
			settings.region ??
			process.env.AWS_REGION ??
			process.env.AWS_DEFAULT_REGION ??
			"us-east-1",
		...(endpoint ? { endpoint, forcePathStyle: true } : {}),
		// MinIO, R2 and older stores reject the newer default checksum modes; S3 needs none of them here.
		requestChecksumCalculation: "WHEN_REQUIRED",
		responseChecksumValidation: "WHEN_REQUIRED",
		maxAttempts: 5,
	};
	return new S3Client(config);
}

const status = (error: unknown) =>
	error instanceof S3ServiceException
		? error.$metadata.httpStatusCode
		: undefined;

/** An {@link ObjectStore} on an S3 bucket prefix. */
export class S3Store implements ObjectStore {
	readonly location: string;
	private readonly publicBase: string;

	constructor(
		private readonly client: S3Client,
		private readonly where: S3Location,
		settings: S3Settings,
	) {
		this.location = `s3://${where.bucket}${where.prefix ? `/${where.prefix}` : ""}`;
		const endpoint =
			settings.endpoint ??
			process.env.AWS_ENDPOINT_URL_S3 ??
			process.env.AWS_ENDPOINT_URL;
		const region = settings.region ?? process.env.AWS_REGION ?? "us-east-1";
		this.publicBase = (
			settings.publicUrl ??
			(endpoint
				? `${endpoint.replace(/\/+$/, "")}/${where.bucket}`
				: `https://${where.bucket}.s3.${region}.amazonaws.com`)
		).replace(/\/+$/, "");
	}

	private key(key: string): string {
		return this.where.prefix ? `${this.where.prefix}/${key}` : key;
	}

	url(key: string): string {
		return `${this.publicBase}/${this.key(key)}`;
	}

	async get(key: string): Promise<StoredObject | undefined> {
		// The SDK retries requests, but not a body cut off after the response began: retry that here.
		for (let attempt = 0; ; attempt++) {
			try {
				const out = await this.client.send(
					new GetObjectCommand({
						Bucket: this.where.bucket,
						Key: this.key(key),
					}),
				);
				return {
					body: (await out.Body?.transformToString("utf8")) ?? "",
					etag: out.ETag ?? "",
				};
			} catch (error) {
				if (status(error) === 404) return undefined;
				const cut =
					(error as Error).message === "aborted" ||
					(error as NodeJS.ErrnoException).code === "ECONNRESET";
				if (!cut || attempt >= 4) throw error;
				await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
			}
		}
	}

	async put(
		key: string,
		body: string,
		condition: WriteCondition = {},
	): Promise<void> {
		try {
			await this.client.send(
				new PutObjectCommand({
					Bucket: this.where.bucket,
					Key: this.key(key),
					Body: body,
					ContentType: "application/json",
					CacheControl: "no-cache",
					...(condition.ifMatch ? { IfMatch: condition.ifMatch } : {}),
					...(condition.ifNoneMatch ? { IfNoneMatch: "*" } : {}),
				}),
			);
		} catch (error) {
			// 412: the condition failed; 409: a concurrent conditional write is in progress.
			if (status(error) === 412 || status(error) === 409)
				throw new PreconditionFailedError(key);
			throw error;
		}
	}

	async list(prefix: string): Promise<string[]> {
		const keys: string[] = [];
		const base = this.where.prefix ? `${this.where.prefix}/` : "";
		let token: string | undefined;
		do {
			const out = await this.client.send(
				new ListObjectsV2Command({
					Bucket: this.where.bucket,
					Prefix: base + prefix,
					ContinuationToken: token,
				}),
			);
			for (const o of out.Contents ?? [])
				if (o.Key) keys.push(o.Key.slice(base.length));
			token = out.IsTruncated ? out.NextContinuationToken : undefined;
		} while (token);
		return keys.sort();
	}

	async head(
		key: string,
	): Promise<{ size: number; sha256?: string } | undefined> {
		try {
			const out = await this.client.send(
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
	async upload(
		key: string,
		file: string,
		options: UploadOptions,
	): Promise<void> {
		const Bucket = this.where.bucket;
		const Key = this.key(key);
		const created = await this.client.send(
			new CreateMultipartUploadCommand({
				Bucket,
				Key,
				ContentType: "application/octet-stream",
				Metadata: { sha256: options.sha256 },
			}),
		);
		const UploadId = created.UploadId as string;
		// S3 allows at most 10,000 parts: grow the part size for very large files.
		const partSize = Math.max(
			options.partSize,
			Math.ceil(options.size / 10_000),
		);
		const count = Math.max(1, Math.ceil(options.size / partSize));
		const etags: string[] = new Array(count);
		const handle = await open(file, "r");
		let next = 0;
		let sent = 0;
		let failure: unknown;
		const worker = async () => {
			const buffer = Buffer.alloc(partSize);
			while (failure === undefined && next < count) {
				const index = next++;
				if (options.signal?.aborted) throw abortError();
				const offset = index * partSize;
				const { bytesRead } = await handle.read(
					buffer,
					0,
					Math.min(partSize, options.size - offset),
					offset,
				);
				const out = await this.client.send(
					new UploadPartCommand({
						Bucket,
						Key,
						UploadId,
						PartNumber: index + 1,
						Body: buffer.subarray(0, bytesRead),
					}),
					{ abortSignal: options.signal },
				);
				etags[index] = out.ETag as string;
				sent += bytesRead;
				options.onProgress?.(sent, options.size);
			}
		};
		try {
			const workers = Array.from(
				{ length: Math.min(options.concurrency, count) },
				() =>
					worker().catch((error) => {
						failure ??= error;
					}),
			);
			await Promise.all(workers);
			if (failure !== undefined) throw failure;
			if (options.signal?.aborted) throw abortError();
			await this.client.send(
				new CompleteMultipartUploadCommand({
					Bucket,
					Key,
					UploadId,
					MultipartUpload: {
						Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })),
					},
				}),
			);
		} catch (error) {
			await this.client
				.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }))
				.catch(() => undefined);
			throw error;
		} finally {
			await handle.close();
		}
	}
}

function abortError(): Error {
	return Object.assign(new Error("the upload was aborted"), {
		name: "AbortError",
	});
}
