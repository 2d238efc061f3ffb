// The slot bookkeeping of one album's editing session: who holds which slot,
// which slots may be handed out again, and which never may. Pure (no sockets,
// no store). The rules come from the CRDT (docs/crdt.md, "Slots, epochs and
// compaction"): a slot is reused within a session only after its holder left
// cleanly (its final replica was merged, so the next holder's replica holds
// every event of the slot and continues above them); a slot whose holder
// vanished (connection lost, or ended by the server) is retired until the
// session ends, because nobody knows how far its counter went.
import { AlbumError, ErrorCode } from "../../common/album-error.ts";

export const FIRST_EDITOR_SLOT = 1;
export const LAST_EDITOR_SLOT = 0xffff;

export interface SlotHolder<Connection> {
  readonly slot: number;
  readonly user: string;
  readonly connection: Connection;
  /** "host:port" of the editor's peer endpoint, once announced. */
  address: string | undefined;
}

/** How a holder gave its slot back. */
export type Departure = "left" | "lost" | "removed";

export class SessionSlots<Connection> {
  readonly #holders = new Map<number, SlotHolder<Connection>>();
  /** Slots given back cleanly, reusable (lowest first). */
  readonly #reusable = new Set<number>();
  /** Slots whose holder vanished: never handed out again in this session. */
  readonly #retired = new Set<number>();
  #nextFresh = FIRST_EDITOR_SLOT;

  get size(): number {
    return this.#holders.size;
  }

  get retiredCount(): number {
    return this.#retired.size;
  }

  holders(): SlotHolder<Connection>[] {
    return [...this.#holders.values()].sort((a, b) => a.slot - b.slot);
  }

  holder(slot: number): SlotHolder<Connection> | undefined {
    return this.#holders.get(slot);
  }

  holderOf(user: string): SlotHolder<Connection> | undefined {
    for (const holder of this.#holders.values()) if (holder.user === user) return holder;
    return undefined;
  }

  /** Gives `user` a slot; refused if the user already holds one. */
  take(user: string, connection: Connection): SlotHolder<Connection> {
    if (this.holderOf(user)) {
      throw new AlbumError(
        ErrorCode.FailedPrecondition,
        `${user} already has this album open in another session; putAlbum there first`,
      );
    }
    const slot = this.#pickSlot();
    const holder: SlotHolder<Connection> = { slot, user, connection, address: undefined };
    this.#holders.set(slot, holder);
    return holder;
  }

  /** Frees a slot: reusable after a clean leave, retired otherwise. */
  release(slot: number, how: Departure): SlotHolder<Connection> | undefined {
    const holder = this.#holders.get(slot);
    if (!holder) return undefined;
    this.#holders.delete(slot);
    if (how === "left") this.#reusable.add(slot);
    else this.#retired.add(slot);
    return holder;
  }

  #pickSlot(): number {
    if (this.#reusable.size > 0) {
      const slot = Math.min(...this.#reusable);
      this.#reusable.delete(slot);
      return slot;
    }
    if (this.#nextFresh > LAST_EDITOR_SLOT) {
      throw new AlbumError(
        ErrorCode.ResourceExhausted,
        "this editing session has used up its slots; it frees them when every editor has left",
      );
    }
    return this.#nextFresh++;
  }
}
