// Causal delivery of broadcast messages: a hold-back buffer over vector clocks.
// A message from slot s with sequence number n and clock V is deliverable when
// the receiver has delivered exactly n-1 messages of s and, for every other
// slot k, at least V[k] messages of k. Messages that are not yet deliverable
// are held, indexed by the one (slot, seq) they wait for, and re-examined only
// when that message is delivered. Each (slot, seq) is delivered at most once;
// duplicates are dropped.
// Pure: no sockets, no timers, no clocks. Never trusts a message: malformed
// ones are refused, and the number of held messages is bounded.

import {
  counterOf,
  emptyClock,
  type SessionSlot,
  type VectorClock,
  withCounter,
} from "./vector-clock.ts";

export interface CausalMessage {
  readonly slot: SessionSlot;
  /** 1 for the first message of the slot, then 2, 3, ... (equals clock[slot]). */
  readonly seq: number;
  /** What the sender had delivered when it sent this message, plus this message. */
  readonly clock: VectorClock;
}

export type ReceiveOutcome =
  /** Delivered now (possibly with held messages it unblocked). */
  | "delivered"
  /** Held until what it depends on is delivered. */
  | "held"
  /** Already delivered or already held: dropped. */
  | "duplicate"
  /** Malformed (seq/clock disagree): dropped. */
  | "invalid"
  /** Not deliverable and the buffer is full: dropped, to be repaired later. */
  | "overflow";

export interface ReceiveResult<T> {
  readonly outcome: ReceiveOutcome;
  /** Every message delivered by this call, in a causal order. */
  readonly delivered: T[];
}

/** The (slot, seq) a held message waits for. */
export interface Dependency {
  readonly slot: SessionSlot;
  readonly seq: number;
}

export interface CausalBufferOptions {
  /**
   * What counts as already delivered at the start. A newcomer starts from the
   * clock the peers hand it; a reused slot thereby continues its counter.
   */
  initialDelivered?: VectorClock;
  /** Most messages held at once (default 10,000). */
  maxHeld?: number;
}

const keyOf = (slot: SessionSlot, seq: number): string => `${slot}:${seq}`;

export class CausalBuffer<T extends CausalMessage> {
  readonly #delivered = new Map<SessionSlot, number>();
  readonly #maxHeld: number;
  /** Held messages by their own (slot, seq). */
  readonly #held = new Map<string, T>();
  /** Held messages by the (slot, seq) they wait for. */
  readonly #waiters = new Map<string, T[]>();

  constructor(options: CausalBufferOptions = {}) {
    for (const [slot, counter] of options.initialDelivered ?? emptyClock()) {
      if (counter > 0) this.#delivered.set(slot, counter);
    }
    this.#maxHeld = options.maxHeld ?? 10_000;
  }

  /** A snapshot of what has been delivered. */
  get delivered(): VectorClock {
    return new Map(this.#delivered);
  }

  deliveredCount(slot: SessionSlot): number {
    return this.#delivered.get(slot) ?? 0;
  }

  get heldCount(): number {
    return this.#held.size;
  }

  /** The held messages, in no particular order. */
  held(): T[] {
    return [...this.#held.values()];
  }

  /** The highest sequence number of `slot` delivered or held. */
  seenCount(slot: SessionSlot): number {
    let seen = this.deliveredCount(slot);
    for (const message of this.#held.values()) {
      if (message.slot === slot && message.seq > seen) seen = message.seq;
    }
    return seen;
  }

  /** The messages the held ones wait for (each once). */
  waitingFor(): Dependency[] {
    return [...this.#waiters.keys()].map((key) => {
      const [slot, seq] = key.split(":").map(Number);
      return { slot: slot!, seq: seq! };
    });
  }

  /**
   * The sequence number and clock the next message sent from `slot` must
   * carry. Receiving the message built from them delivers it at once.
   */
  nextStamp(slot: SessionSlot): { seq: number; clock: VectorClock } {
    const seq = this.deliveredCount(slot) + 1;
    return { seq, clock: withCounter(this.#delivered, slot, seq) };
  }

  receive(message: T): ReceiveResult<T> {
    if (!isWellFormed(message)) return { outcome: "invalid", delivered: [] };
    const key = keyOf(message.slot, message.seq);
    if (message.seq <= this.deliveredCount(message.slot) || this.#held.has(key)) {
      return { outcome: "duplicate", delivered: [] };
    }
    const waitsFor = this.#firstMissing(message);
    if (waitsFor === undefined) {
      return { outcome: "delivered", delivered: this.#deliverCascade(message) };
    }
    if (this.#held.size >= this.#maxHeld) return { outcome: "overflow", delivered: [] };
    this.#hold(message, waitsFor);
    return { outcome: "held", delivered: [] };
  }

  /**
   * Counts everything up to `floor` as delivered, for messages that can no
   * longer be obtained (older than every peer's retained history), and
   * returns the held messages that this unblocks. A message we hold is not
   * lost: the floor stops below it (it is delivered once what it waits for
   * arrives) — unless `dropHeld`, which skips held messages too (for our own
   * slot, whose earlier numbers belong to a predecessor).
   */
  fastForward(floor: VectorClock, dropHeld = false): T[] {
    let raised = false;
    for (const [slot, wanted] of floor) {
      const counter = dropHeld ? wanted : Math.min(wanted, this.#lowestHeld(slot) - 1);
      if (counter > this.deliveredCount(slot)) {
        this.#delivered.set(slot, counter);
        raised = true;
      }
    }
    if (!raised) return [];
    // Rare path (repair after a loss): re-examine every held message.
    const held = [...this.#held.values()];
    this.#held.clear();
    this.#waiters.clear();
    const delivered: T[] = [];
    for (const message of held) {
      if (message.seq <= this.deliveredCount(message.slot)) continue;
      if (this.#held.has(keyOf(message.slot, message.seq))) continue;
      const waitsFor = this.#firstMissing(message);
      if (waitsFor === undefined) delivered.push(...this.#deliverCascade(message));
      else this.#hold(message, waitsFor);
    }
    return delivered;
  }

  /**
   * Takes in a peer's retained history: `messages` are the messages it has
   * delivered that we lack, in its delivery order, and `peerDelivered` its
   * delivered clock. For each slot, the peer retains a contiguous suffix of
   * that slot's messages up to peerDelivered[slot]. For the slots where the
   * peer's word is final (`mayDeclareLost`: its own slot, a slot nobody holds
   * any more, or everything for a newcomer), whatever lies between our count
   * and the first retained message is gone for good, so we skip it
   * (fastForward) instead of waiting forever. This is also how a newcomer
   * starts: from an empty clock, it adopts the peer's clock and history.
   */
  receiveSnapshot(
    messages: readonly T[],
    peerDelivered: VectorClock,
    mayDeclareLost: (slot: SessionSlot) => boolean = () => true,
  ): T[] {
    const firstRetained = new Map<SessionSlot, number>();
    for (const message of messages) {
      if (message.seq <= this.deliveredCount(message.slot)) continue;
      const first = firstRetained.get(message.slot);
      if (first === undefined || message.seq < first) firstRetained.set(message.slot, message.seq);
    }
    const floor = new Map<SessionSlot, number>();
    for (const [slot, counter] of peerDelivered) {
      if (counter <= this.deliveredCount(slot) || !mayDeclareLost(slot)) continue;
      const first = firstRetained.get(slot);
      floor.set(slot, first === undefined ? counter : Math.min(counter, first - 1));
    }
    const delivered = this.fastForward(floor);
    for (const message of messages) delivered.push(...this.receive(message).delivered);
    return delivered;
  }

  #lowestHeld(slot: SessionSlot): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const message of this.#held.values()) {
      if (message.slot === slot && message.seq < lowest) lowest = message.seq;
    }
    return lowest;
  }

  /** The first (slot, seq) `message` still waits for, or undefined if deliverable. */
  #firstMissing(message: T): Dependency | undefined {
    const own = this.deliveredCount(message.slot);
    if (own < message.seq - 1) return { slot: message.slot, seq: message.seq - 1 };
    for (const [slot, counter] of message.clock) {
      if (slot === message.slot) continue;
      if (this.deliveredCount(slot) < counter) return { slot, seq: counter };
    }
    return undefined;
  }

  #hold(message: T, waitsFor: Dependency): void {
    this.#held.set(keyOf(message.slot, message.seq), message);
    const dependencyKey = keyOf(waitsFor.slot, waitsFor.seq);
    const waiters = this.#waiters.get(dependencyKey);
    if (waiters) waiters.push(message);
    else this.#waiters.set(dependencyKey, [message]);
  }

  /** Delivers `first`, then every held message that becomes deliverable. */
  #deliverCascade(first: T): T[] {
    const delivered: T[] = [];
    const ready: T[] = [first];
    while (ready.length > 0) {
      const message = ready.pop()!;
      this.#delivered.set(message.slot, message.seq);
      delivered.push(message);
      const key = keyOf(message.slot, message.seq);
      const waiters = this.#waiters.get(key);
      if (!waiters) continue;
      this.#waiters.delete(key);
      for (const waiter of waiters) {
        const waitsFor = this.#firstMissing(waiter);
        if (waitsFor === undefined) {
          this.#held.delete(keyOf(waiter.slot, waiter.seq));
          ready.push(waiter);
        } else {
          this.#held.delete(keyOf(waiter.slot, waiter.seq));
          this.#hold(waiter, waitsFor);
        }
      }
    }
    return delivered;
  }
}

function isWellFormed(message: CausalMessage): boolean {
  return (
    Number.isInteger(message.seq) &&
    message.seq >= 1 &&
    counterOf(message.clock, message.slot) === message.seq
  );
}
