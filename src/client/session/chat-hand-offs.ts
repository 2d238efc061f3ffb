// The chat this editor delivered that no acknowledged hand-off carried yet
// (the central server keeps the album's chat, docs/sessions.md "Chat kept by
// the server"): each delivered message is kept, in delivery order (a causal
// order), until a hand-off, a resume or the final putAlbum that carried it is
// acknowledged. Pure bookkeeping; the album-session core drives it.
// It never drops an unacknowledged message, except the oldest past the
// server's own bound (the server would prune it anyway).
import type { ChatEntry } from "../../peer/index.ts";
import type { KeptChatMessage } from "../central-client.ts";

/** Delivered messages kept for the next hand-off at most (the server keeps no more per album). */
export const MAX_UNHANDED_CHAT = 1000;

export interface ChatHandOff {
  readonly messages: KeptChatMessage[];
  /** Pass to acknowledge() once the server confirmed the hand-off that carried `messages`. */
  readonly receipt: number;
}

export class ChatHandOffs {
  readonly #epoch: number;
  /** Delivered chat no acknowledged hand-off carried yet, in delivery order. */
  #unhanded: { n: number; message: KeptChatMessage }[] = [];
  #nextN = 1;

  constructor(epoch: number) {
    this.#epoch = epoch;
  }

  get isEmpty(): boolean {
    return this.#unhanded.length === 0;
  }

  /** A chat message we delivered: kept until a hand-off carries it. */
  record(entry: ChatEntry): void {
    this.#unhanded.push({
      n: this.#nextN++,
      message: {
        epoch: this.#epoch,
        slot: entry.slot,
        seq: entry.seq,
        sender: entry.senderName,
        text: entry.text,
        sentAtUnixMs: entry.sentAtUnixMs,
      },
    });
    if (this.#unhanded.length > MAX_UNHANDED_CHAT) this.#unhanded.shift();
  }

  /** The chat to hand off with the next hand-off, and its receipt. */
  prepare(): ChatHandOff {
    return {
      messages: this.#unhanded.map((entry) => entry.message),
      receipt: this.#nextN - 1,
    };
  }

  acknowledge(receipt: number): void {
    this.#unhanded = this.#unhanded.filter((entry) => entry.n > receipt);
  }
}
