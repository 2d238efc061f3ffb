// Who may speak for each slot of an editing session, as the central server
// said: the current holder of a slot, and everyone who held it before in this
// session (a slot is handed out again after a clean leave). Chat relayed from
// a slot must carry one of these names; a live message must carry the current
// holder's. Pure bookkeeping, fed only by what the central server vouched for,
// never by anything a peer writes.
import type { SessionSlot } from "./vector-clock.ts";

export class SlotRoster {
  readonly #names = new Map<SessionSlot, Set<string>>();
  readonly #current = new Map<SessionSlot, string>();

  /** The slot is (now) held by `user`. */
  hold(slot: SessionSlot, user: string): void {
    this.#current.set(slot, user);
    this.held(slot, user);
  }

  /** `user` held the slot earlier in the session. */
  held(slot: SessionSlot, user: string): void {
    const names = this.#names.get(slot);
    if (names) names.add(user);
    else this.#names.set(slot, new Set([user]));
  }

  /** The holder left; its name stays allowed for what it said before. */
  release(slot: SessionSlot): void {
    this.#current.delete(slot);
  }

  currentUser(slot: SessionSlot): string | undefined {
    return this.#current.get(slot);
  }

  /** True when a message of `slot` may carry the sender name `user`. */
  allows(slot: SessionSlot, user: string): boolean {
    return this.#names.get(slot)?.has(user) ?? false;
  }
}
