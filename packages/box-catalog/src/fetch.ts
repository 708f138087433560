/**
 * Reading one catalog document (the catalog, a channel pointer) from https, http or file, bounded in time and size:
 * a catalog is a few kilobytes, so a server that sends megabytes or trickles bytes is refused, not waited for. The one
 * reader of catalog documents, used by bootstrap and box-builder.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The largest catalog document read: a catalog of hundreds of versions is well under it. */
export const MAX_CATALOG_BYTES = 4 * 2 ** 20;
/** How long a whole catalog document may take, headers and body. */
export const CATALOG_TIMEOUT_MS = 20_000;

/** A catalog document could not be read; the message names the URL, the reason and what to check. */
export class CatalogFetchError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot read ${url} (${reason})`);
    this.name = 'CatalogFetchError';
  }
}

/** Limits of one read. */
export interface FetchLimits {
  /** @default {@link MAX_CATALOG_BYTES} */
  readonly maxBytes?: number;
  /** @default {@link CATALOG_TIMEOUT_MS} */
  readonly timeoutMs?: number;
}

/** The URL with any password replaced, for messages. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.href;
  } catch {
    return url;
  }
}

/** The most telling reason of a failed fetch: a system error code (ECONNREFUSED), else the innermost message. */
function causeOf(error: unknown): string {
  let message = (error as Error).message;
  for (let e = error as { code?: unknown; cause?: unknown; message?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) {
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return e.code;
    if (typeof e.message === 'string') message = e.message;
  }
  return message;
}

/**
 * The text at `url`, or `undefined` when there is none (HTTP 404, no such file). Anything else that goes wrong
 * throws {@link CatalogFetchError}: unreachable, too slow (the whole read is bounded by `timeoutMs`), too large,
 * another HTTP status, or a scheme other than https, http and file.
 */
export async function fetchCatalogDocument(url: string, limits: FetchLimits = {}): Promise<string | undefined> {
  const maxBytes = limits.maxBytes ?? MAX_CATALOG_BYTES;
  const timeoutMs = limits.timeoutMs ?? CATALOG_TIMEOUT_MS;
  const shown = displayUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CatalogFetchError(shown, 'not a URL');
  }
  if (parsed.protocol === 'file:') return readLocal(parsed, shown, maxBytes);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new CatalogFetchError(shown, 'use https://, http:// or file://');
  const signal = AbortSignal.timeout(timeoutMs);
  // fetch refuses credentials in a URL: they travel as Basic authentication instead.
  const headers: Record<string, string> = {};
  if (parsed.username || parsed.password) {
    headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
  }
  try {
    const response = await fetch(parsed, { signal, redirect: 'follow', headers });
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new CatalogFetchError(shown, `HTTP ${response.status}`);
    }
    const announced = Number(response.headers.get('content-length') ?? -1);
    if (announced > maxBytes) {
      await response.body?.cancel();
      throw new CatalogFetchError(shown, `${announced} bytes, more than a catalog's ${maxBytes}`);
    }
    const parts: Uint8Array[] = [];
    let size = 0;
    for await (const part of response.body ?? []) {
      size += part.length;
      if (size > maxBytes) throw new CatalogFetchError(shown, `more than a catalog's ${maxBytes} bytes`);
      parts.push(part);
    }
    return Buffer.concat(parts).toString('utf8');
  } catch (error) {
    if (error instanceof CatalogFetchError) throw error;
    if (signal.aborted) throw new CatalogFetchError(shown, `${parsed.host} took longer than ${timeoutMs / 1000} s`);
    throw new CatalogFetchError(shown, causeOf(error));
  }
}

async function readLocal(url: URL, shown: string, maxBytes: number): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // Non-blocking, so that opening a FIFO does not wait for a writer; it is then refused as not a plain file.
    handle = await open(fileURLToPath(url), constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CatalogFetchError(shown, (error as NodeJS.ErrnoException).code ?? (error as Error).message);
  }
  try {
    const info = await handle.stat();
    // Not a plain file (a FIFO, a device) could block or never end.
    if (!info.isFile()) throw new CatalogFetchError(shown, 'not a plain file');
    if (info.size > maxBytes) throw new CatalogFetchError(shown, `${info.size} bytes, more than a catalog's ${maxBytes}`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
