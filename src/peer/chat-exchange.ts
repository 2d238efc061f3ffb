// The chat half of the session core: our lines composed and broadcast, live
// lines checked against the name the central server gave their slot and
// handed to the causal buffer, and the history exchange that repairs losses
// and brings a newcomer up to date (ChatSyncRequest / ChatSyncReply). The
// delivery rules themselves are CausalChat's. Pure: its actions go to the
// core's CoreOutput.
// Must never deliver a line under a name the central server did not give its
// slot (live: the current holder; relayed: a holder in this session), never
// accept a sync reply nobody asked for, and never decide whom to ask.
import type { Logger } from "../common/logger.ts";
import type {
  ChatMessage as ChatMessageWire,
  ChatSyncReply as ChatSyncReplyWire,
  ChatSyncRequest as ChatSyncRequestWire,
} from "../gen/albumshare/peer/v1/peer_pb.ts";
import { CausalChat } from "./causal-chat.ts";
import type { ChatEntry } from "./chat-history.ts";
import type { CoreOutput } from "./core-output.ts";
import {
  chatEntryFromWire,
  chatEntryToWire,
  chatSyncReplyFromWire,
  chatSyncReplyToWire,
  chatSyncRequestFromWire,
  chatSyncRequestToWire,
} from "./peer-codec.ts";
import { OutstandingRequests } from "./request-budgets.ts";
import type { SessionCoreStats } from "./session-core-types.ts";
import type { SlotRoster } from "./slot-roster.ts";
import { counterOf, type SessionSlot, type VectorClock } from "./vector-clock.ts";

export interface ChatExchangeOptions {
  slot: SessionSlot;
  user: string;
  historyCapacity: number;
  maxHeld: number;
  /** Who may speak for each slot, as the central server said (kept by the core). */
  roster: SlotRoster;
  out: CoreOutput;
  stats: SessionCoreStats;
  logger: Logger;
}

/** What a chat sync reply turned out to be. */
export type ChatReplyOutcome = "dropped" | "applied" | "initial";

export class ChatExchange {
  readonly #chat: CausalChat;
  readonly #roster: SlotRoster;
  readonly #out: CoreOutput;
  readonly #stats: SessionCoreStats;
  readonly #logger: Logger;
  readonly #asked = new OutstandingRequests();
  /** What we had delivered at the last repair tick, and at the one before (see settle()). */
  #atLastTick: VectorClock = new Map();
  #settled: VectorClock = new Map();

  constructor(options: ChatExchangeOptions) {
    this.#chat = new CausalChat({
      slot: options.slot,
      senderName: options.user,
      historyCapacity: options.historyCapacity,
      maxHeld: options.maxHeld,
    });
    this.#roster = options.roster;
    this.#out = options.out;
    this.#stats = options.stats;
    this.#logger = options.logger;
  }

  /** What chat we have delivered (per slot). */
  get delivered(): VectorClock {
    return this.#chat.delivered;
  }

  history(): ChatEntry[] {
    return this.#chat.history();
  }

  /** Our line: numbered, broadcast, delivered here. Throws InvalidArgument for a bad text. */
  compose(text: string, nowUnixMs: number): ChatEntry {
    const entry = this.#chat.compose(text, nowUnixMs);
    this.#out.broadcast({ case: "chatMessage", value: chatEntryToWire(entry) });
    this.#deliver([entry]);
    return entry;
  }

  /** Our next line is numbered above `seq` (CausalChat.numberAbove). */
  numberAbove(seq: number): void {
    this.#deliver(this.#chat.numberAbove(seq));
  }

  /** A live line from `from`: only its own, under its holder's name. */
  onMessage(from: SessionSlot, wire: ChatMessageWire): void {
    const entry = chatEntryFromWire(wire);
    if (
      typeof entry === "string" ||
      entry.slot !== from ||
      entry.senderName !== this.#roster.currentUser(from)
    ) {
      this.#stats.chatRefused++;
      this.#logger.warn({ from, problem: entry }, "chat message refused");
      return;
    }
    const result = this.#chat.receive(entry);
    if (result.outcome === "invalid" || result.outcome === "overflow") this.#stats.chatRefused++;
    this.#deliver(result.delivered);
  }

  /** Answers with what the peer lacks. The caller checked its budget. */
  onSyncRequest(from: SessionSlot, wire: ChatSyncRequestWire): void {
    const request = chatSyncRequestFromWire(wire);
    if (typeof request === "string") {
      this.#logger.warn({ from, problem: request }, "chat sync request refused");
      return;
    }
    const reply = this.#chat.answer(request, from, this.#settled);
    if (reply) this.#out.send(from, chatSyncReplyToWire(reply));
  }

  /** `isPresent` says whose word is final on a gap (see CausalChat.receiveSyncReply). */
  onSyncReply(
    from: SessionSlot,
    wire: ChatSyncReplyWire,
    isPresent: (slot: SessionSlot) => boolean,
  ): ChatReplyOutcome {
    if (!this.#asked.answered(from)) {
      this.#stats.unsolicitedReplies++;
      return "dropped";
    }
    const parsed = chatSyncReplyFromWire(wire);
    if (typeof parsed === "string") {
      this.#logger.warn({ from, problem: parsed }, "chat sync reply refused");
      return "dropped";
    }
    // Relayed lines must carry a name the central server gave their slot.
    const vouched: ChatEntry[] = [];
    const delivered = new Map(parsed.reply.delivered);
    for (const entry of parsed.reply.messages) {
      if (this.#roster.allows(entry.slot, entry.senderName)) {
        vouched.push(entry);
        continue;
      }
      // Refused for now (most likely the server's word that a newcomer
      // holds that slot has not reached us yet): the reply no longer covers
      // this line, so its clock must not let us count it as delivered (or
      // lost); a later repair brings it once its author is vouched for.
      delivered.set(entry.slot, Math.min(counterOf(delivered, entry.slot), entry.seq - 1));
    }
    this.#stats.chatRefused += parsed.refused + parsed.reply.messages.length - vouched.length;
    const reply = { ...parsed.reply, messages: vouched, delivered };
    this.#deliver(this.#chat.receiveSyncReply(reply, from, isPresent));
    return reply.initial ? "initial" : "applied";
  }

  /**
   * The core's repair tick. A repair is answered only with what we had
   * delivered a whole repair period ago: in a busy session a peer always
   * lacks what is still on its way to it, and answering each anti-entropy
   * round with all of it made the replies grow with the lag, and the lag with
   * the replies, until the session drowned in its own repairs. A message
   * that was really lost is sent one period later.
   */
  settle(): void {
    this.#settled = this.#atLastTick;
    this.#atLastTick = new Map(this.#chat.delivered);
  }

  /** Asks `target` for what our delivered clock lacks. */
  request(target: SessionSlot, initial: boolean): void {
    this.#out.send(target, chatSyncRequestToWire(this.#chat.syncRequest(initial)));
    this.#asked.sent(target);
  }

  /** Held lines, by what they wait for (the repair planning reads them). */
  heldKeys(): string[] {
    return this.#chat.heldKeys();
  }

  slotsWaitedFor(): SessionSlot[] {
    return this.#chat.slotsWaitedFor();
  }

  /** Every present peer had its turn: release what waits only for departed authors. */
  abandonDeparted(isPresent: (slot: SessionSlot) => boolean): void {
    this.#deliver(this.#chat.abandonDeparted(isPresent));
  }

  /** The slot's holder left or changed: replies to our earlier requests are no longer expected. */
  forget(slot: SessionSlot): void {
    this.#asked.forget(slot);
  }

  #deliver(entries: readonly ChatEntry[]): void {
    for (const entry of entries) this.#out.push({ kind: "chat", entry });
  }
}
