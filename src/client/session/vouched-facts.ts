// What the central server told this editor about its session, for checking
// the other editors' deltas (src/crdt/delta-audit.ts): the highest slot handed
// out and the rate-once tally of every rated file. Fed by getAlbum and then by
// the server's notices (an editor joined: its slot exists; a rating was
// recorded: the file's new tally), never by a peer. Pure bookkeeping.
import type { AuditRules, RatingTally } from "../../crdt/delta-audit.ts";

export class VouchedFacts implements AuditRules {
  #highestSlot: number;
  readonly #tallies: Map<string, RatingTally>;

  constructor(highestSlot: number, tallies: ReadonlyMap<string, RatingTally>) {
    this.#highestSlot = highestSlot;
    this.#tallies = new Map(tallies);
  }

  get highestSlot(): number {
    return this.#highestSlot;
  }

  ratingTally(fileId: string): RatingTally | undefined {
    return this.#tallies.get(fileId);
  }

  /** A slot was handed out (an editor joined, or we did). */
  slotExists(slot: number): void {
    this.#highestSlot = Math.max(this.#highestSlot, slot);
  }

  /** The server recorded a rating; tallies only grow. */
  ratingRecorded(fileId: string, tally: RatingTally): void {
    const current = this.#tallies.get(fileId);
    if (!current || tally.raters >= current.raters) this.#tallies.set(fileId, tally);
  }
}
