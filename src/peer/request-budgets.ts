// Per-peer accounting of the requests that make us work and the replies we
// accept. A sync request makes us encode what the peer lacks, so each peer
// gets a token bucket of them (a peer asking faster gets no answer); a sync
// reply is accepted only against a request we sent (capped, so a lost reply
// cannot pile up credit). Pure: the clock is passed in.
import type { SessionSlot } from "./vector-clock.ts";

/** Replies we accept from one peer: one per request sent, at most this many outstanding. */
const MAX_OUTSTANDING_REQUESTS = 8;

export class RequestBudgets {
  readonly #rate: number;
  readonly #now: () => number;
  readonly #buckets = new Map<SessionSlot, { tokens: number; at: number }>();

  constructor(perSecond: number, now: () => number) {
    this.#rate = perSecond;
    this.#now = now;
  }

  /** True when `slot` may have one more request answered now. */
  take(slot: SessionSlot): boolean {
    const now = this.#now();
    const bucket = this.#buckets.get(slot) ?? { tokens: this.#rate, at: now };
    bucket.tokens = Math.min(this.#rate, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate);
    bucket.at = now;
    this.#buckets.set(slot, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

/** Requests sent to each peer whose replies we still accept. */
export class OutstandingRequests {
  readonly #counts = new Map<SessionSlot, number>();

  sent(slot: SessionSlot): void {
    this.#counts.set(slot, Math.min((this.#counts.get(slot) ?? 0) + 1, MAX_OUTSTANDING_REQUESTS));
  }

  /** Consumes one; false when nothing was asked of `slot` (the reply is unsolicited). */
  answered(slot: SessionSlot): boolean {
    const count = this.#counts.get(slot) ?? 0;
    if (count === 0) return false;
    if (count === 1) this.#counts.delete(slot);
    else this.#counts.set(slot, count - 1);
    return true;
  }

  forget(slot: SessionSlot): void {
    this.#counts.delete(slot);
  }
}
