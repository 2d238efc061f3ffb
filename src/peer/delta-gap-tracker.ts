// Notices lost CRDT deltas: every editor numbers the deltas it broadcasts
// (1, 2, ...), so a receiver that sees 7 after 5 knows 6 is missing — or only
// late. The tracker remembers, per sender, which numbers arrived above the
// contiguous prefix; a gap that outlives one repair period is worth an
// anti-entropy request to that sender. Pure bookkeeping: no timers, no I/O;
// memory per sender is bounded.

import type { SessionSlot } from "./vector-clock.ts";

/** Out-of-order numbers remembered per sender before the gap is simply reported. */
const MAX_TRACKED_ABOVE = 1024;

interface SenderTrack {
  /** Lowest number not yet seen (everything below it was seen). */
  next: number;
  /** Numbers seen above `next`. */
  above: Set<number>;
  /** Repair period in which the current gap was first seen, if there is a gap. */
  gapSincePeriod: number | undefined;
}

export class DeltaGapTracker {
  readonly #senders = new Map<SessionSlot, SenderTrack>();
  /** Senders whose gap grew too wide to track; reported at the next period end. */
  readonly #overflowed = new Set<SessionSlot>();
  #period = 0;

  /**
   * Records delta `seq` from `sender`. The first number seen from a sender is
   * its baseline (we may have joined after its first deltas; what came before
   * is the newcomer sync's business).
   */
  record(sender: SessionSlot, seq: number): void {
    const track = this.#senders.get(sender);
    if (!track) {
      this.#senders.set(sender, { next: seq + 1, above: new Set(), gapSincePeriod: undefined });
      return;
    }
    if (seq < track.next || track.above.has(seq)) return;
    if (seq === track.next) {
      track.next++;
      while (track.above.delete(track.next)) track.next++;
      if (track.above.size === 0) track.gapSincePeriod = undefined;
      return;
    }
    track.above.add(seq);
    track.gapSincePeriod ??= this.#period;
    if (track.above.size > MAX_TRACKED_ABOVE) {
      this.#settle(track);
      this.#overflowed.add(sender);
    }
  }

  /**
   * Starts tracking a sender that told us how many deltas it sent before (its
   * Hello), unless we already track it. The next expected number is `sentSoFar + 1`.
   */
  expect(sender: SessionSlot, sentSoFar: number): void {
    if (this.#senders.has(sender)) return;
    this.#senders.set(sender, { next: sentSoFar + 1, above: new Set(), gapSincePeriod: undefined });
  }

  /** Forgets a sender (it left, or its slot is taken by someone new). */
  forget(sender: SessionSlot): void {
    this.#senders.delete(sender);
    this.#overflowed.delete(sender);
  }

  /**
   * Ends a repair period: returns the senders whose gap was already there at
   * the previous call, and considers those gaps handled (the caller asks each
   * sender for everything we lack, which covers them).
   */
  closePeriod(): SessionSlot[] {
    const lasting = [...this.#overflowed];
    this.#overflowed.clear();
    for (const [sender, track] of this.#senders) {
      if (track.gapSincePeriod !== undefined && track.gapSincePeriod < this.#period) {
        lasting.push(sender);
        this.#settle(track);
      }
    }
    this.#period++;
    return lasting;
  }

  #settle(track: SenderTrack): void {
    track.next = Math.max(track.next, ...track.above) + 1;
    track.above.clear();
    track.gapSincePeriod = undefined;
  }
}
