/**
 * HTTP for the downloader: keep-alive GETs with timeouts and a low-speed watch, retries with backoff, and the probe
 * that learns the size, whether ranges work and a validator. Redirects never change the kind of URL.
 */
import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { setTimeout as delay } from 'node:timers/promises';
import { backoffMs } from '@airy/cli-kit';
import { errorCode } from '../errors.js';
import { type Block, RETRYABLE_CODES, retryableStatus } from './blocks.js';
import { DiskFullError, DownloadError, type DownloadRequest } from './request.js';

/** A failure worth another try. `server`: the server answered, but not what HTTP promises (its fault, not the box's). */
export class RetryableError extends Error {
  constructor(
    message: string,
    readonly fault: 'network' | 'server' = 'network',
  ) {
    super(message);
  }
}

/** A short description of the host a URL points at, for errors. */
export const hostOf = (url: string) => new URL(url).host;

/** Keep-alive agents, so each connection serves many blocks. */
export const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/**
 * A GET through node:http(s) (lighter than fetch for long bodies: Buffers, no web-stream copies), following up
 * to five redirects. A socket idle for `idleMs` is destroyed, which the caller retries.
 */
export function get(
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

export const timeoutsOf = (request: DownloadRequest) => ({ idleMs: request.idleTimeoutMs ?? 30_000, headersMs: request.headersTimeoutMs ?? 30_000 });

/**
 * Cuts `res` when fewer than `bytesPerSecond` arrive on average over `seconds` (after the first `seconds`), with an
 * error that names the host and the rate. Returns the function that counts received bytes, and one that stops it.
 */
export function lowSpeedWatch(res: IncomingMessage, url: string, limit: { bytesPerSecond: number; seconds: number }) {
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
export async function fetchInto(
  url: string,
  range: Block | undefined,
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
export async function withRetries(what: string, request: DownloadRequest, work: () => Promise<void>): Promise<void> {
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
      await delay(backoffMs(attempt), undefined, { signal: request.signal }).catch((stop: unknown) => {
        // Stopped: with the stop's own reason, as every other part of the download is.
        throw request.signal?.reason ?? stop;
      });
    }
  }
}

/** Learns the size, whether ranges work, and a validator (ETag or Last-Modified). */
export async function probe(url: string, request: DownloadRequest): Promise<{ size: number; ranged: boolean; validator: string }> {
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
