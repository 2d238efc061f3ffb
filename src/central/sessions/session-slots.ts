// The slot bookkeeping of one album's editing session: who holds which slot,
// which holders are away (connection dropped, or the server restarted) and
// may reclaim their slot, which slots may be handed out again, and which
// never may. Pure (no sockets, no store, no clock: times are passed in). The
// rules come from the CRDT (docs/crdt.md, "Slots, epochs and compaction"):
// a slot is reused within a session only after its holder left cleanly (its
// final replica was merged, so the next holder's replica holds every event of
// the slot and continues above them); an away holder keeps its slot and only
// it may reclaim it (it still has its replica, hence its own counter); a slot
// whose holder vanished for good (away past the grace period, removed) is
// retired until the session ends, because nobody else knows how far its
// counter went. It must never hand a newcomer a slot anybody held unless that
// holder left cleanly.
import { AlbumError, ErrorCode } from "../../common/album-error.ts";

export const FIRST_EDITOR_SLOT = 1;
export const LAST_EDITOR_SLOT = 0xffff;

export interface SlotHolder<Connection> {
  readonly slot: number;
  readonly user: string;
  /** Undefined while the holder is away (its connection dropped, or the server restarted). */
  connection: Connection | undefined;
  /** When it went away (ms, the caller's clock); undefined while connected. */
  awaySince: number | undefined;
  /** Hex SHA-256 of the resume key only this holder knows. */
  readonly resumeKeyHash: string;
  /** "host:port" of the editor's peer endpoint, once announced. */
  address: string | undefined;
  /**
   * The highest chat number of the slot the server knows of: its earlier
   * holders' last when it was handed out, raised when the holder leaves
   * cleanly. The next holder numbers its chat above it.
   */
  chatSeq: number;
}

/** How a holder gave its slot back. */
export type Departure = "left" | "lost" | "removed";

/** A slot as the durable slot table records it. */
export interface SlotRecord {
  readonly slot: number;
  readonly user: string;
  readonly state: "held" | "reusable" | "retired";
  readonly resumeKeyHash: string;
  readonly address: string | undefined;
  readonly chatSeq: number;
}

export class SessionSlots<Connection> {
  readonly #holders = new Map<number, SlotHolder<Connection>>();
  /** Slots given back cleanly, reusable (lowest first), with the chat number their holders reached. */
  readonly #reusable = new Map<number, number>();
  /** Slots whose holder vanished: never handed out again in this session, by slot. */
  readonly #retired = new Map<number, { user: string; resumeKeyHash: string }>();
  #nextFresh = FIRST_EDITOR_SLOT;

  /**
   * The slots of a session as the slot table recorded them before a restart:
   * every holder is away (it may reclaim its slot), every other slot keeps
   * its state, and fresh slots continue above the highest one ever used.
   */
  static restore<Connection>(
    records: readonly SlotRecord[],
    now: number,
  ): SessionSlots<Connection> {
    const slots = new SessionSlots<Connection>();
    for (const record of records) {
      slots.#nextFresh = Math.max(slots.#nextFresh, record.slot + 1);
      if (record.state === "held") {
        slots.#holders.set(record.slot, {
          slot: record.slot,
          user: record.user,
          connection: undefined,
          awaySince: now,
          resumeKeyHash: record.resumeKeyHash,
          address: record.address,
          chatSeq: record.chatSeq,
        });
      } else if (record.state === "reusable") {
        slots.#reusable.set(record.slot, record.chatSeq);
      } else {
        slots.#retired.set(record.slot, {
          user: record.user,
          resumeKeyHash: record.resumeKeyHash,
        });
      }
    }
    return slots;
  }

  /** Holders, connected or away. */
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

  /** The user and key hash of a retired slot (a late editor may still hand its changes in). */
  retired(slot: number): { user: string; resumeKeyHash: string } | undefined {
    return this.#retired.get(slot);
  }

  /**
   * Gives `user` a slot; refused if the user already holds one (connected or
   * away: the caller retires an away one first if it wants to).
   */
  take(user: string, connection: Connection, resumeKeyHash = ""): SlotHolder<Connection> {
    if (this.holderOf(user)) {
      throw new AlbumError(
        ErrorCode.FailedPrecondition,
        `${user} already has this album open in another session; putAlbum there first`,
      );
    }
    const { slot, chatSeq } = this.#pickSlot();
    const holder: SlotHolder<Connection> = {
      slot,
      user,
      connection,
      awaySince: undefined,
      resumeKeyHash,
      address: undefined,
      chatSeq,
    };
    this.#holders.set(slot, holder);
    return holder;
  }

  /** The holder's connection dropped: it keeps its slot, away since `now`. */
  markAway(slot: number, now: number): void {
    const holder = this.#holders.get(slot);
    if (!holder) return;
    holder.connection = undefined;
    holder.awaySince = now;
  }

  /** The holder came back (on `connection`): connected again. */
  reclaim(slot: number, connection: Connection): SlotHolder<Connection> {
    const holder = this.#holders.get(slot);
    if (!holder) throw new AlbumError(ErrorCode.FailedPrecondition, `slot ${slot} is not held`);
    holder.connection = connection;
    holder.awaySince = undefined;
    return holder;
  }

  /** Away holders whose grace ran out by `now`. */
  expired(now: number, graceMs: number): SlotHolder<Connection>[] {
    return this.holders().filter(
      (holder) => holder.awaySince !== undefined && holder.awaySince + graceMs <= now,
    );
  }

  /** Frees a slot: reusable after a clean leave, retired otherwise. */
  release(slot: number, how: Departure): SlotHolder<Connection> | undefined {
    const holder = this.#holders.get(slot);
    if (!holder) return undefined;
    this.#holders.delete(slot);
    if (how === "left") this.#reusable.set(slot, holder.chatSeq);
    else this.#retired.set(slot, { user: holder.user, resumeKeyHash: holder.resumeKeyHash });
    return holder;
  }

  #pickSlot(): { slot: number; chatSeq: number } {
    if (this.#reusable.size > 0) {
      const slot = Math.min(...this.#reusable.keys());
      const chatSeq = this.#reusable.get(slot)!;
      this.#reusable.delete(slot);
      return { slot, chatSeq };
    }
    if (this.#nextFresh > LAST_EDITOR_SLOT) {
      throw new AlbumError(
        ErrorCode.ResourceExhausted,
        "this editing session has used up its slots; it frees them when every editor has left",
      );
    }
    return { slot: this.#nextFresh++, chatSeq: 0 };
  }
}
