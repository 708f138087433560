/**
 * The box downloader: parallel ranged GETs, resumable across restarts from a small state file, retries with
 * backoff, one stream when the server has no ranges, SHA-256 verified before anything uses the file, and a verified
 * marker so a re-run never downloads again. Memory stays small whatever the size: bodies stream to disk.
 */
import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, type FileHandle, lstat, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { fileURLToPath } from 'node:url';
import { errorCode } from './errors.js';
import { acquireLock, backoffMs, writeFileAtomic } from '@airy/cli-kit';
import { DEFAULT_PARALLELISM, type ParallelismDecision, ParallelismController, type ParallelismPolicy } from './parallelism.js';
import { canResume, type Chunk, parseResumeState, planChunks, RETRYABLE_CODES, type ResumeState, remaining, retryableStatus } from './ranges.js';

/** What to download. */
export interface DownloadRequest {
  readonly url: string;
  readonly sha256: string;
  /** Where the verified file ends up. */
  readonly out: string;
  /** Pins the number of parallel ranged connections; without it the count adapts (see parallelism.ts). */
  readonly connections?: number;
  /** The adaptive policy, when `connections` is not pinned. @default {@link DEFAULT_PARALLELISM} */
  readonly parallelism?: ParallelismPolicy;
  /** Each change of the connection count, with why (shown with --verbose). */
  readonly onParallelism?: (decision: ParallelismDecision) => void;
  /** @default from the size: 1/32 of it, between 8 and 64 MiB (see {@link defaultChunkSize}) */
  readonly chunkSize?: number;
  /** Tries per request before giving up. @default 6 */
  readonly attempts?: number;
  /** A request that sends no byte for this long is retried. @default 30 s */
  readonly idleTimeoutMs?: number;
  /** A request whose response headers take longer than this is retried. @default 30 s */
  readonly headersTimeoutMs?: number;
  /**
   * A connection slower than `bytesPerSecond` on average over `seconds` is cut and retried (curl's --speed-limit and
   * --speed-time): a server that trickles bytes cannot hold a download for hours. @default 1024 B/s over 30 s
   */
  readonly lowSpeed?: { readonly bytesPerSecond: number; readonly seconds: number };
  readonly onProgress?: (done: number, total: number) => void;
  readonly onStart?: (info: { size: number; resumedBytes: number; ranged: boolean }) => void;
  readonly signal?: AbortSignal;
}

/** What happened. */
export interface DownloadResult {
  readonly path: string;
  readonly size: number;
  /** Nothing was fetched: the verified file was already there. */
  readonly cached: boolean;
  /** Bytes that came from an earlier, interrupted run. */
  readonly resumedBytes: number;
  readonly ranged: boolean;
  /** Connections: the most that ran at once, the final target, and how many tail ranges were handed over. */
  readonly connections?: { readonly peak: number; readonly final: number; readonly handedOver: number };
}

/** The output path is not a plain file: nothing was downloaded. */
export class OutputPathError extends Error {
  constructor(
    readonly path: string,
    readonly kind: string,
  ) {
    super(`${path} is ${kind}: name a plain file (or a path that does not exist yet) for the box`);
    this.name = 'OutputPathError';
  }
}

/** The file's SHA-256 is not the catalog's; the file was deleted and nothing was marked verified. */
export class ChecksumError extends Error {
  constructor(
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${url} downloaded with sha256 ${actual}, but the catalog says ${expected}: the file was deleted, nothing was used; run again, and if it repeats the published box is corrupt`);
    this.name = 'ChecksumError';
  }
}

/** The disk filled up. */
export class DiskFullError extends Error {
  constructor(
    readonly dir: string,
    readonly needed: number,
  ) {
    super(`no space left in ${dir}${needed ? ` (the box needs ${needed} bytes)` : ''}: free some disk, or choose another folder with --cache`);
    this.name = 'DiskFullError';
  }
}

/** A final failure after retries. */
export class DownloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadError';
  }
}

const MiB = 2 ** 20;
/**
 * Bytes a connection gathers before one positioned write. Bigger means fewer syscalls, but each connection's
 * pending socket buffers count toward RSS; 512 KiB measured as fast as 1 MiB with a fifth less peak RSS.
 */
const COALESCE = 512 * 2 ** 10;

/**
 * Chunks of 1/32 of the file, between 8 and 64 MiB: large enough that per-request cost does not matter, small
 * enough that eight connections stay busy and a restart loses little. It depends on the size alone, so a resume
 * with other `--connections` still matches the saved state.
 */
export function defaultChunkSize(size: number): number {
  return Math.min(64 * MiB, Math.max(8 * MiB, Math.ceil(size / 32 / MiB) * MiB));
}
const statePath = (out: string) => `${out}.download.json`;
const partPath = (out: string) => `${out}.part`;
const markerPath = (out: string) => `${out}.verified`;

interface Marker {
  readonly sha256: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Whether `out` is already the verified file (same hash, size and mtime as when we verified it). */
export async function isVerified(out: string, sha256: string): Promise<boolean> {
  try {
    const marker = JSON.parse(await readFile(markerPath(out), 'utf8')) as Marker;
    const info = await stat(out);
    return marker.sha256 === sha256 && marker.size === info.size && marker.mtimeMs === info.mtimeMs;
  } catch {
    return false;
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });

/** A failure worth another try. `server`: the server answered, but not what HTTP promises (its fault, not the box's). */
class RetryableError extends Error {
  constructor(
    message: string,
    readonly fault: 'network' | 'server' = 'network',
  ) {
    super(message);
  }
}

/** A short description of the host a URL points at, for errors. */
const hostOf = (url: string) => new URL(url).host;

/** Keep-alive agents, so each connection serves many chunks. */
const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/**
 * A GET through node:http(s) (lighter than fetch for long bodies: Buffers, no web-stream copies), following up
 * to five redirects. A socket idle for `idleMs` is destroyed, which the caller retries.
 */
function get(
  url: string,
  headers: Record<string, string>,
  timeouts: { idleMs: number; headersMs: number },
  signal?: AbortSignal,
  redirects = 5,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    // The headers must arrive within their deadline, however slowly the server trickles them.
    const deadline = setTimeout(
      () => req.destroy(Object.assign(new Error(`${target.host} sent no response headers within ${timeouts.headersMs / 1000} s`), { code: 'EHEADERSTIMEOUT' })),
      timeouts.headersMs,
    );
    const req = (secure ? httpsRequest : httpRequest)(target, { headers, agent: secure ? agents.https : agents.http, signal }, (res) => {
      clearTimeout(deadline);
      const location = res.headers.location;
      if (location && res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && redirects > 0) {
        res.resume();
        const next = new URL(location, target);
        // A redirect may change the host, never the kind of URL: no file:, no downgrade from https.
        if (next.protocol !== 'https:' && !(next.protocol === 'http:' && target.protocol === 'http:')) {
          reject(new DownloadError(`${target.host} redirected to a ${next.protocol} URL, which is refused: check the catalog's box URL`));
          return;
        }
        resolve(get(next.href, headers, timeouts, signal, redirects - 1));
        return;
      }
      resolve(res);
    });
    req.setTimeout(timeouts.idleMs, () => req.destroy(Object.assign(new Error('no data for too long'), { code: 'ETIMEDOUT' })));
    req.on('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    req.end();
  });
}

const timeoutsOf = (request: DownloadRequest) => ({ idleMs: request.idleTimeoutMs ?? 30_000, headersMs: request.headersTimeoutMs ?? 30_000 });

/**
 * Cuts `res` when fewer than `bytesPerSecond` arrive on average over `seconds` (after the first `seconds`), with an
 * error that names the host and the rate. Returns the function that counts received bytes, and one that stops it.
 */
function lowSpeedWatch(res: IncomingMessage, url: string, limit: { bytesPerSecond: number; seconds: number }) {
  const samples: number[] = [0];
  let received = 0;
  const timer = setInterval(() => {
    samples.push(received);
    if (samples.length > limit.seconds + 1) samples.shift();
    const window = samples.length - 1;
    if (window >= limit.seconds && (received - (samples[0] as number)) / window < limit.bytesPerSecond) {
      res.destroy(
        Object.assign(new Error(`${hostOf(url)} sent less than ${limit.bytesPerSecond} B/s for ${limit.seconds} s`), { code: 'ELOWSPEED' }),
      );
    }
  }, 1000);
  timer.unref();
  return {
    count: (bytes: number) => {
      received += bytes;
    },
    stop: () => clearInterval(timer),
  };
}

/** One GET (ranged or not) whose body goes to `sink`; failures worth another try become RetryableError. */
async function fetchInto(
  url: string,
  range: Chunk | undefined,
  /** Takes each piece of the body; `false` means it needs no more (its range was shortened), which ends the request. */
  sink: (data: Uint8Array) => Promise<boolean | undefined>,
  request: DownloadRequest,
  /** The whole file's size for a GET without a range; -1 when the server did not say. */
  expectedSize = -1,
): Promise<void> {
  let watch: ReturnType<typeof lowSpeedWatch> | undefined;
  try {
    const res = await get(url, range ? { Range: `bytes=${range.start}-${range.end}` } : {}, timeoutsOf(request), request.signal);
    const status = res.statusCode ?? 0;
    if (retryableStatus(status)) {
      res.resume();
      throw new RetryableError(`HTTP ${status}`);
    }
    if (range ? status !== 206 : status !== 200) {
      res.resume();
      throw new DownloadError(`${url}: HTTP ${status} ${res.statusMessage ?? ''}`.trim());
    }
    // A server's answer is checked, not believed: the range it says it sends, and the length.
    const expected = range ? range.end - range.start + 1 : expectedSize;
    if (range) {
      const answered = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
      if (!answered || Number(answered[1]) !== range.start || Number(answered[2]) !== range.end) {
        res.resume();
        throw new RetryableError(`${hostOf(url)} answered ${res.headers['content-range'] ?? 'no Content-Range'} for bytes ${range.start}-${range.end}`, 'server');
      }
    }
    const length = res.headers['content-length'];
    if (length !== undefined && expected >= 0 && Number(length) !== expected) {
      res.resume();
      throw new RetryableError(`${hostOf(url)} announced ${length} bytes where ${expected} were expected`, 'server');
    }
    watch = lowSpeedWatch(res, url, request.lowSpeed ?? { bytesPerSecond: 1024, seconds: 30 });
    let received = 0;
    for await (const data of res) {
      received += (data as Buffer).length;
      watch.count((data as Buffer).length);
      if (expected >= 0 && received > expected) {
        res.destroy();
        throw new RetryableError(`${hostOf(url)} sent more than the ${expected} bytes asked for`, 'server');
      }
      if ((await sink(data as Buffer)) === false) {
        res.destroy();
        return;
      }
    }
    if (!res.complete) throw new RetryableError('connection closed mid-body');
    if (expected >= 0 && received !== expected) throw new RetryableError(`short body: ${received} of ${expected} bytes from ${hostOf(url)}`);
  } catch (error) {
    if (error instanceof DownloadError || error instanceof DiskFullError || error instanceof RetryableError) throw error;
    if (request.signal?.aborted) throw request.signal.reason ?? error;
    const code = errorCode(error);
    if (code === 'ENOSPC') throw error;
    if (code === 'ELOWSPEED' || code === 'EHEADERSTIMEOUT') throw new RetryableError((error as Error).message);
    if ((code && RETRYABLE_CODES.has(code)) || (error as Error).message === 'aborted') throw new RetryableError(code ?? 'aborted');
    throw error;
  } finally {
    watch?.stop();
  }
}

/** Retries `work` on retryable failures with backoff. */
async function withRetries(what: string, request: DownloadRequest, work: () => Promise<void>): Promise<void> {
  const attempts = request.attempts ?? 6;
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof RetryableError) || attempt + 1 >= attempts) {
        if (error instanceof RetryableError) {
          const advice =
            error.fault === 'server'
              ? 'the server does not serve this file correctly: try again later, or tell whoever runs it'
              : 'check the network and run again; completed parts are kept';
          throw new DownloadError(`${what} failed ${attempts} times (last: ${error.message}): ${advice}`);
        }
        throw error;
      }
      await sleep(backoffMs(attempt), request.signal);
    }
  }
}

/** Learns the size, whether ranges work, and a validator (ETag or Last-Modified). */
async function probe(url: string, request: DownloadRequest): Promise<{ size: number; ranged: boolean; validator: string }> {
  let result: { size: number; ranged: boolean; validator: string } | undefined;
  await withRetries(`HEAD ${url}`, request, async () => {
    let response: IncomingMessage;
    try {
      response = await get(url, { Range: 'bytes=0-0' }, timeoutsOf(request), request.signal);
    } catch (error) {
      if (request.signal?.aborted || error instanceof DownloadError) throw error;
      const code = errorCode(error);
      throw new RetryableError(code === 'EHEADERSTIMEOUT' ? (error as Error).message : (code ?? (error as Error).message));
    }
    // Only the headers matter. A body of a byte is drained (the connection is kept); a larger one (a server that
    // sends the whole file for bytes=0-0, as some do) is cut.
    if (Number(response.headers['content-length'] ?? 2) <= 1) response.resume();
    else response.destroy();
    const status = response.statusCode ?? 0;
    if (retryableStatus(status)) throw new RetryableError(`HTTP ${status}`);
    if (status === 404) throw new DownloadError(`${url}: not found (HTTP 404): the catalog points at a missing box`);
    if (status !== 206 && status !== 200) throw new DownloadError(`${url}: HTTP ${status}`);
    const header = (name: string) => {
      const value = response.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const validator = header('etag') ?? header('last-modified') ?? '';
    if (status === 206) {
      // The probe needs the total; a range from 0 that is longer than asked still tells it (s3rver answers so).
      const answered = /^bytes 0-(\d+)\/(\d+)$/.exec(header('content-range') ?? '');
      if (!answered || Number(answered[1]) >= Number(answered[2])) {
        throw new RetryableError(`${hostOf(url)} answered ${header('content-range') ?? 'no Content-Range'} for bytes 0-0`, 'server');
      }
      result = { size: Number(answered[2]), ranged: true, validator };
    } else {
      // No ranges: the length, if the server says it (else -1, unknown).
      const length = header('content-length');
      result = { size: length !== undefined && /^\d+$/.test(length) ? Number(length) : -1, ranged: false, validator };
    }
    if (result.size !== -1 && !Number.isSafeInteger(result.size)) throw new DownloadError(`${hostOf(url)} reported an impossible size (${result.size})`);
  });
  return result as { size: number; ranged: boolean; validator: string };
}

/**
 * Feeds bytes `start..end` (inclusive) of an open file to `hash` through one reused buffer: a fresh buffer per
 * read is garbage the GC frees late, and that shows as RSS.
 */
async function hashRange(file: FileHandle, start: number, end: number, buffer: Buffer, hash: Hash): Promise<void> {
  for (let position = start; position <= end; ) {
    const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, end - position + 1), position);
    if (bytesRead === 0) throw new Error(`the file ends before byte ${position}`);
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  const file = await open(path, 'r');
  try {
    await hashRange(file, 0, (await file.stat()).size - 1, Buffer.allocUnsafe(MiB), hash);
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

/** Buffers a chunk's pieces and writes them {@link COALESCE} bytes at a time at their offsets: far fewer syscalls. */
function coalescingWriter(handle: FileHandle, start: number, onWritten: (bytes: number) => void) {
  let position = start;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let total = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const buffers = pending;
    const bytes = pendingBytes;
    pending = [];
    pendingBytes = 0;
    await handle.writev(buffers, position);
    position += bytes;
    total += bytes;
    onWritten(bytes);
  };
  return {
    write: async (data: Uint8Array) => {
      pending.push(data);
      pendingBytes += data.length;
      if (pendingBytes >= COALESCE) await flush();
    },
    flush,
    /** Bytes written (and reported) so far. */
    written: () => total,
  };
}

/**
 * SHA-256 of the part file, fed in file order as chunks finish: `advance()` hashes every finished chunk from the
 * cursor on (reading from the page cache), `digest()` hashes whatever is left and returns the hex digest.
 */
function orderedHasher(path: string, chunks: readonly Chunk[], done: ReadonlySet<number>) {
  const hash = createHash('sha256');
  let cursor = 0;
  let running = Promise.resolve();
  let failure: unknown;
  const buffer = Buffer.allocUnsafe(MiB);
  const ready = (all: boolean) => cursor < chunks.length && (all || done.has(cursor));
  const step = async (all: boolean) => {
    if (!ready(all)) return;
    const file = await open(path, 'r');
    try {
      for (; ready(all); cursor++) {
        const c = chunks[cursor] as Chunk;
        await hashRange(file, c.start, c.end, buffer, hash);
      }
    } finally {
      await file.close();
    }
  };
  return {
    advance() {
      running = running.then(() => step(false)).catch((error) => {
        failure ??= error;
      });
    },
    async digest() {
      await running;
      if (failure) throw failure;
      await step(true);
      return hash.digest('hex');
    },
  };
}

function asDiskFull(error: unknown, dir: string, size: number): never {
  if (errorCode(error) === 'ENOSPC') throw new DiskFullError(dir, size);
  throw error;
}

/** A range of one chunk fetched by one connection; its `end` moves down when its tail is handed over. */
interface Piece {
  readonly index: number;
  readonly start: number;
  end: number;
  /** Bytes of this piece received on the current try. */
  received: number;
  startedAt: number;
}

/** The least a handed-over tail is worth: below this, a new connection costs more than it saves. */
const MIN_HANDOVER = MiB;

/**
 * Fetches `todo` into `handle` over parallel ranged connections. Their number follows {@link ParallelismController}
 * (or is pinned). When no whole chunk is left, an idle connection takes over the second half of the range that
 * would take longest to finish (the slowest connection's, usually), so the last percent does not take the longest.
 * A chunk is reported done once all its pieces are.
 */
async function fetchPieces(
  request: DownloadRequest,
  todo: readonly Chunk[],
  handle: FileHandle,
  hooks: { onBytes: (n: number) => void; onChunkDone: (index: number) => Promise<void> },
): Promise<{ peak: number; final: number; handedOver: number }> {
  const queue: Piece[] = todo.map((c) => ({ index: c.index, start: c.start, end: c.end, received: 0, startedAt: 0 }));
  const outstanding = new Map(todo.map((c) => [c.index, 1]));
  const active = new Set<Piece>();
  const controller = new ParallelismController(request.parallelism ?? DEFAULT_PARALLELISM, request.connections);
  request.onParallelism?.({
    target: controller.target,
    reason: request.connections ? `${request.connections} connections, pinned by --connections` : `starting with ${controller.target} connections`,
  });
  let running = 0;
  let peak = 0;
  let handedOver = 0;
  // Bytes as they arrive (before the coalesced writes): what the connection count is judged by.
  let arrived = 0;
  let failure: unknown;

  // Speeds of finished pieces: with the running ones, they say what a normal connection does.
  const finishedSpeeds: number[] = [];
  const speedOf = (p: Piece, now: number) => p.received / Math.max(0.05, (now - p.startedAt) / 1000);
  const handOver = (): Piece | undefined => {
    let slowest: Piece | undefined;
    let longest = 0;
    const now = performance.now();
    for (const p of active) {
      const left = p.end - (p.start + p.received) + 1;
      if (left < 2 * MIN_HANDOVER) continue;
      const eta = left / Math.max(1, speedOf(p, now));
      if (eta > longest) {
        slowest = p;
        longest = eta;
      }
    }
    if (!slowest) return undefined;
    const at = slowest.start + slowest.received;
    const left = slowest.end - at + 1;
    // A connection far below the others (under a quarter of the median, after a second) gives up all it has left;
    // otherwise the tail is shared, half and half.
    const speeds = [...finishedSpeeds, ...[...active].filter((p) => p !== slowest && now - p.startedAt > 1000).map((p) => speedOf(p, now))].sort(
      (a, b) => a - b,
    );
    const median = speeds[Math.floor(speeds.length / 2)];
    const replace = median !== undefined && now - slowest.startedAt > 1000 && speedOf(slowest, now) < median / 4;
    const from = replace ? at : at + Math.floor(left / 2);
    const piece: Piece = { index: slowest.index, start: from, end: slowest.end, received: 0, startedAt: 0 };
    slowest.end = from - 1;
    outstanding.set(slowest.index, (outstanding.get(slowest.index) ?? 1) + 1);
    handedOver++;
    return piece;
  };

  const runPiece = async (piece: Piece) => {
    await withRetries(`bytes ${piece.start}-${piece.end} of ${request.url}`, request, async () => {
      if (piece.end < piece.start) return; // all of it was handed over before it started
      piece.received = 0;
      piece.startedAt = performance.now();
      const writer = coalescingWriter(handle, piece.start, hooks.onBytes);
      try {
        await fetchInto(
          request.url,
          { index: piece.index, start: piece.start, end: piece.end },
          async (data) => {
            const room = piece.end - (piece.start + piece.received) + 1;
            if (room <= 0) return false;
            const slice = data.length > room ? data.subarray(0, room) : data;
            piece.received += slice.length;
            arrived += slice.length;
            await writer.write(slice);
            return piece.start + piece.received <= piece.end;
          },
          request,
        );
        await writer.flush();
      } catch (error) {
        hooks.onBytes(-writer.written()); // this piece starts over
        throw error;
      }
    });
    if (piece.received > 0) finishedSpeeds.push(speedOf(piece, performance.now()));
    const left = (outstanding.get(piece.index) ?? 1) - 1;
    outstanding.set(piece.index, left);
    if (left === 0) await hooks.onChunkDone(piece.index);
  };

  const worker = async (first: Piece) => {
    running++;
    peak = Math.max(peak, running);
    try {
      // A connection above the target finishes its piece and leaves (shedding).
      for (let piece: Piece | undefined = first; piece; ) {
        active.add(piece);
        try {
          await runPiece(piece);
        } finally {
          active.delete(piece);
        }
        if (failure !== undefined || running > controller.target) return;
        piece = queue.shift() ?? handOver();
      }
    } catch (error) {
      failure ??= error;
    } finally {
      running--;
    }
  };

  const workers: Promise<void>[] = [];
  // New connections up to the target, each with a piece of its own (a whole chunk, else a handed-over tail).
  const spawn = () => {
    while (failure === undefined && running < controller.target) {
      const piece = queue.shift() ?? handOver();
      if (!piece) return;
      workers.push(worker(piece));
    }
  };
  const timer = setInterval(() => {
    const decision = controller.sample(performance.now(), arrived);
    if (decision) {
      request.onParallelism?.(decision);
      spawn();
    }
  }, 250);
  try {
    controller.sample(performance.now(), arrived);
    spawn();
    while (workers.length > 0) await Promise.all(workers.splice(0));
  } finally {
    clearInterval(timer);
  }
  if (failure !== undefined) throw failure;
  return { peak, final: controller.target, handedOver };
}

/** Downloads and verifies; see the module comment. A second run with the same request is a no-op. */
export async function download(request: DownloadRequest): Promise<DownloadResult> {
  const { out, sha256 } = request;
  await checkOutput(out);
  await mkdir(dirname(out), { recursive: true });
  const release = await acquireLock(`${out}.lock`);
  try {
    if (await isVerified(out, sha256)) {
      const { size } = await stat(out);
      return { path: out, size, cached: true, resumedBytes: 0, ranged: false };
    }
    if (request.url.startsWith('file://')) return await copyLocal(request);

    const info = await probe(request.url, request);
    const chunkSize = request.chunkSize ?? defaultChunkSize(info.size);
    const wanted = { url: request.url, size: info.size, sha256, validator: info.validator, chunkSize };
    const saved = await readFile(statePath(out), 'utf8').then(parseResumeState, () => undefined);
    // The part file must still be there, whole-sized and a plain file, or the saved progress means nothing.
    const partInfo = await lstat(partPath(out)).catch(() => undefined);
    const resume = info.ranged && canResume(saved, wanted) && partInfo?.isFile() === true && partInfo.size === info.size;
    const done = new Set(resume ? saved.done : []);
    const chunks = planChunks(info.size, chunkSize);
    const todo = info.ranged ? remaining(chunks, done) : [];
    const resumedBytes = chunks.filter((c) => done.has(c.index)).reduce((n, c) => n + c.end - c.start + 1, 0);
    request.onStart?.({ size: info.size, resumedBytes, ranged: info.ranged });

    const part = partPath(out);
    if (!resume) await rm(part, { force: true });
    // O_NOFOLLOW: a symbolic link put at the part's path is never written through.
    const flags = resume ? constants.O_RDWR | constants.O_NOFOLLOW : constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const handle = await open(part, flags, 0o644).catch((e) => asDiskFull(e, dirname(out), info.size));
    let progress = resumedBytes;
    let hashing: ReturnType<typeof orderedHasher> | undefined;
    let connections: DownloadResult['connections'];
    try {
      if (info.ranged) {
        await handle.truncate(info.size).catch((e) => asDiskFull(e, dirname(out), info.size));
        let saving = Promise.resolve();
        const save = () => {
          const state: ResumeState = { ...wanted, done: [...done].sort((a, b) => a - b) };
          saving = saving.then(() => writeFileAtomic(statePath(out), JSON.stringify(state)));
          return saving;
        };
        await save();
        // Hash the finished prefix while later chunks still download, so little is left to hash at the end.
        const hasher = orderedHasher(part, chunks, done);
        hashing = hasher;
        const pool = await fetchPieces(request, todo, handle, {
          onBytes: (n) => {
            progress += n;
            // A piece that starts over takes its bytes back silently; the next bytes show the new figure.
            if (n > 0) request.onProgress?.(progress, info.size);
          },
          onChunkDone: async (index) => {
            done.add(index);
            hasher.advance();
            await save();
          },
        });
        connections = pool;
        await saving;
        hasher.advance();
      } else {
        // No ranges: one stream, from the start on each try.
        await withRetries(`GET ${request.url}`, request, async () => {
          await handle.truncate(0);
          let position = 0;
          progress = 0;
          await fetchInto(
            request.url,
            undefined,
            async (data) => {
              await handle.write(data, 0, data.length, position).catch((e) => asDiskFull(e, dirname(out), info.size));
              position += data.length;
              progress += data.length;
              request.onProgress?.(progress, info.size);
              return true;
            },
            request,
            info.size,
          );
        });
      }
    } finally {
      await handle.close();
    }

    const actual = hashing ? await hashing.digest() : await hashFile(part);
    if (actual !== sha256) {
      await Promise.all([rm(part, { force: true }), rm(statePath(out), { force: true })]);
      throw new ChecksumError(request.url, sha256, actual);
    }
    await rename(part, out);
    await rm(statePath(out), { force: true });
    const finished = await stat(out);
    await writeMarker(out, { sha256, size: finished.size, mtimeMs: finished.mtimeMs });
    return { path: out, size: finished.size, cached: false, resumedBytes, ranged: info.ranged, ...(connections ? { connections } : {}) };
  } catch (error) {
    // The disk can fill anywhere: the box, the state file, the marker.
    if (errorCode(error) === 'ENOSPC') throw new DiskFullError(dirname(out), await remoteSizeHint(out));
    throw error;
  } finally {
    await release();
  }
}

/** The box size, for the disk-full message: from the resume state when there is one. */
async function remoteSizeHint(out: string): Promise<number> {
  return readFile(statePath(out), 'utf8').then((t) => parseResumeState(t)?.size ?? 0, () => 0);
}

/** The verified marker, written atomically: a link at its path is replaced, not followed. */
async function writeMarker(out: string, marker: Marker): Promise<void> {
  await writeFileAtomic(markerPath(out), JSON.stringify(marker));
}

/**
 * Refuses an output path that is not a plain file (or not there yet): a folder, a device, a FIFO, a socket, or a
 * symbolic link, which would send the box somewhere else. Checked before anything is downloaded.
 */
async function checkOutput(out: string): Promise<void> {
  for (const path of [out, partPath(out), markerPath(out), statePath(out)]) {
    const info = await lstat(path).catch(() => undefined);
    if (!info || info.isFile()) continue;
    const kind = info.isSymbolicLink() ? 'a symbolic link' : info.isDirectory() ? 'a folder' : info.isFIFO() ? 'a FIFO' : info.isSocket() ? 'a socket' : 'a device';
    throw new OutputPathError(path, kind);
  }
}

/** A file:// box: copied, then verified like any other. */
async function copyLocal(request: DownloadRequest): Promise<DownloadResult> {
  const source = fileURLToPath(request.url);
  const part = partPath(request.out);
  const { size } = await stat(source).catch(() => {
    throw new DownloadError(`${request.url}: no such file: the catalog points at a missing box`);
  });
  request.onStart?.({ size, resumedBytes: 0, ranged: false });
  await rm(part, { force: true });
  await copyFile(source, part, constants.COPYFILE_EXCL).catch((e) => asDiskFull(e, dirname(request.out), size));
  request.onProgress?.(size, size);
  const actual = await hashFile(part);
  if (actual !== request.sha256) {
    await rm(part, { force: true });
    throw new ChecksumError(request.url, request.sha256, actual);
  }
  await rename(part, request.out);
  const finished = await stat(request.out);
  await writeMarker(request.out, { sha256: request.sha256, size, mtimeMs: finished.mtimeMs });
  return { path: request.out, size, cached: false, resumedBytes: 0, ranged: false };
}
