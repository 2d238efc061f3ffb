// The removals an open session is waiting on (docs/sessions.md,
// "Membership"): the central server ends a holder whom the merged album no
// longer lists only once that removal has settled — a settle time after the
// server first saw the holder out, so every live editor has handed off what
// it did concurrently (two editors removing each other keep each other) —
// and only if the merged album still leaves the holder out then. (The caller
// also waits while an editor is away: its concurrent changes come when it
// resumes.) Each removal gets its own full wait: one seen while another
// settles is not decided at the earlier one's time. Pure bookkeeping by slot;
// EditingSessions acts on what it returns. It must never report a holder the
// album lists.

/** A holder as this bookkeeping needs it. */
export interface HolderRef {
  readonly slot: number;
  readonly user: string;
}

export class PendingRemovals {
  /** When each slot's holder was first seen out of the merged album. */
  readonly #outSince = new Map<number, number>();

  get size(): number {
    return this.#outSince.size;
  }

  /** The merged album now lists `members`: notes who is out since when, forgets who is back. */
  note(members: ReadonlySet<string>, holders: readonly HolderRef[], now: number): void {
    for (const holder of holders) {
      if (members.has(holder.user)) this.#outSince.delete(holder.slot);
      else if (!this.#outSince.has(holder.slot)) this.#outSince.set(holder.slot, now);
    }
  }

  /**
   * The slots whose holders' removals have settled by `now` and still hold
   * (forgotten here: the caller ends them); forgets slots whose holder left
   * or is listed again.
   */
  settled(
    members: ReadonlySet<string>,
    holderOf: (slot: number) => HolderRef | undefined,
    now: number,
    settleMs: number,
  ): number[] {
    const due: number[] = [];
    for (const [slot, since] of [...this.#outSince]) {
      const holder = holderOf(slot);
      if (!holder || members.has(holder.user)) {
        this.#outSince.delete(slot);
      } else if (since + settleMs <= now) {
        this.#outSince.delete(slot);
        due.push(slot);
      }
    }
    return due;
  }

  /** The slot was given up (a reused slot's next holder starts afresh). */
  forget(slot: number): void {
    this.#outSince.delete(slot);
  }
}
