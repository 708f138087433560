/**
 * The deliveries the inspector shows: each webhook the proxy forwarded (or replayed), in memory, bounded by count
 * and by bytes: anyone who knows the public URL can post to it, so what is kept of bodies (for replay, and shown
 * with --log-bodies) is capped per delivery and in total; a delivery whose body is not kept says why it cannot be
 * replayed. Request and response headers are stored redacted. Listeners hear of each new delivery (the inspector's
 * live list).
 */
import type { SignatureCheck } from './signatures.js';

/** One delivery. */
export interface Delivery {
  readonly id: number;
  readonly time: string;
  /** `facebook`, `google` or `twilio` (from the path), else undefined. */
  readonly source?: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly latencyMs: number;
  readonly requestHeaders: Readonly<Record<string, string>>;
  readonly responseHeaders: Readonly<Record<string, string>>;
  /** The body as text, only when bodies are shown (--log-bodies). */
  readonly body?: string;
  readonly signature?: SignatureCheck;
  /** The delivery this one replayed. */
  readonly replayOf?: number;
  /** Why it cannot be replayed (its body was too large to keep, or dropped to bound memory); absent when it can. */
  readonly notReplayable?: string;
}

/** What is kept of a delivery besides what is shown: the raw request, for replay. */
export interface StoredDelivery extends Delivery {
  readonly raw: { readonly path: string; readonly headers: Readonly<Record<string, string | string[] | undefined>>; readonly body: Buffer };
}

/** How much the list keeps. */
export interface DeliveryLimits {
  /** Deliveries kept; the oldest go first. @default 500 */
  readonly count?: number;
  /** The largest body kept for replay; a larger one is forwarded, listed, and not replayable. @default 256 KiB */
  readonly bodyBytes?: number;
  /** Bytes of bodies kept in all; past it the oldest bodies are dropped. @default 16 MiB */
  readonly totalBytes?: number;
}

const KiB = 1024;

/** The in-memory list, bounded by {@link DeliveryLimits}. */
export class Deliveries {
  private readonly items: StoredDelivery[] = [];
  private nextId = 1;
  private bytes = 0;
  private readonly listeners = new Set<(d: Delivery) => void>();
  readonly max: number;
  readonly bodyBytes: number;
  readonly totalBytes: number;

  constructor(limits: DeliveryLimits = {}) {
    this.max = limits.count ?? 500;
    this.bodyBytes = limits.bodyBytes ?? 256 * KiB;
    this.totalBytes = limits.totalBytes ?? 16 * KiB * KiB;
  }

  /** Bytes of bodies held now (raw bodies and shown text). */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Adds a delivery (its id is assigned here), keeping its body only within the limits, and tells the listeners. */
  add(delivery: Omit<StoredDelivery, 'id'>): StoredDelivery {
    let stored: StoredDelivery = { ...delivery, id: this.nextId++ };
    if (sizeOf(stored) > this.bodyBytes) {
      stored = withoutBody(stored, `too large to replay: ${delivery.raw.body.length} bytes, the inspector keeps bodies up to ${this.bodyBytes}`);
    }
    this.items.push(stored);
    this.bytes += sizeOf(stored);
    while (this.items.length > this.max) {
      const gone = this.items.shift() as StoredDelivery;
      this.bytes -= sizeOf(gone);
    }
    // Past the total, the oldest bodies go first; what they were is still listed.
    for (let i = 0; this.bytes > this.totalBytes && i < this.items.length; i++) {
      const item = this.items[i] as StoredDelivery;
      const size = sizeOf(item);
      if (size === 0) continue;
      this.items[i] = withoutBody(item, "not replayable: its body was dropped to keep the inspector's memory bounded");
      this.bytes -= size;
    }
    const added = this.items.at(-1) as StoredDelivery;
    for (const listener of this.listeners) listener(shown(added));
    return added;
  }

  /** Every delivery kept, oldest first, as shown. */
  list(): Delivery[] {
    return this.items.map(shown);
  }

  /** One delivery with its raw request, if it is still kept. */
  get(id: number): StoredDelivery | undefined {
    return this.items.find((d) => d.id === id);
  }

  /** Calls `listener` for each new delivery; returns the function that stops it. */
  subscribe(listener: (d: Delivery) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The bytes of body a delivery holds. */
function sizeOf(d: StoredDelivery): number {
  return d.raw.body.length + (d.body ? Buffer.byteLength(d.body) : 0);
}

/** A delivery that keeps no body, saying why. */
function withoutBody(d: StoredDelivery, why: string): StoredDelivery {
  const { body: _body, ...rest } = d;
  return {
    ...rest,
    notReplayable: why,
    raw: { ...d.raw, body: Buffer.alloc(0) },
  };
}

/** A delivery without its raw request. */
export function shown(d: StoredDelivery): Delivery {
  const { raw: _raw, ...rest } = d;
  return rest;
}
