/**
 * The deliveries the inspector shows: each webhook the proxy forwarded (or replayed), in memory, bounded. Request
 * and response headers are stored redacted; the body is kept (for replay and signature checks) but shown only with
 * --log-bodies. Listeners hear of each new delivery (the inspector's live list).
 */
import type { SignatureCheck } from "./signatures.js";

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
}

/** What is kept of a delivery besides what is shown: the raw request, for replay. */
export interface StoredDelivery extends Delivery {
	readonly raw: {
		readonly path: string;
		readonly headers: Readonly<Record<string, string | string[] | undefined>>;
		readonly body: Buffer;
	};
}

/** The in-memory list; the oldest go first once it holds `max`. */
export class Deliveries {
	private readonly items: StoredDelivery[] = [];
	private nextId = 1;
	private readonly listeners = new Set<(d: Delivery) => void>();

	constructor(readonly max = 500) {}

	/** Adds a delivery (its id is assigned here) and tells the listeners. */
	add(delivery: Omit<StoredDelivery, "id">): StoredDelivery {
		const stored = { ...delivery, id: this.nextId++ };
		this.items.push(stored);
		if (this.items.length > this.max) this.items.shift();
		for (const listener of this.listeners) listener(shown(stored));
		return stored;
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

/** A delivery without its raw request. */
export function shown(d: StoredDelivery): Delivery {
	const { raw: _raw, ...rest } = d;
	return rest;
}
