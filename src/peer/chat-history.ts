// The recent chat of a session: the last N delivered messages (default 200),
// in delivery order, each with its sender's name. Handed to a newcomer
// together with the delivered clock so it can follow live, and used to repair
// a peer that missed messages. Pure: a bounded ring, no I/O; never grows past
// its capacity.

import type { CausalMessage } from "./causal-buffer.ts";
import { counterOf, type VectorClock } from "./vector-clock.ts";

export const DEFAULT_CHAT_HISTORY_CAPACITY = 200;

/** A chat message as every editor delivers it. */
export interface ChatEntry extends CausalMessage {
  /** The sender's user name. */
  readonly senderName: string;
  readonly text: string;
  /** The sender's wall clock when it sent the message (for display only). */
  readonly sentAtUnixMs: number;
}

export class ChatHistory<T extends CausalMessage = ChatEntry> {
  readonly capacity: number;
  readonly #ring: T[] = [];
  /** Index of the oldest entry once the ring is full. */
  #start = 0;

  constructor(capacity = DEFAULT_CHAT_HISTORY_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`chat history capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  get size(): number {
    return this.#ring.length;
  }

  /** Appends a delivered message, forgetting the oldest one when full. */
  record(message: T): void {
    if (this.#ring.length < this.capacity) {
      this.#ring.push(message);
      return;
    }
    this.#ring[this.#start] = message;
    this.#start = (this.#start + 1) % this.capacity;
  }

  /** The retained messages, oldest first (delivery order, hence causal). */
  recent(): T[] {
    return [...this.#ring.slice(this.#start), ...this.#ring.slice(0, this.#start)];
  }

  /** The retained messages that a peer having delivered `delivered` lacks, in delivery order. */
  missingFor(delivered: VectorClock): T[] {
    return this.recent().filter((message) => message.seq > counterOf(delivered, message.slot));
  }
}
