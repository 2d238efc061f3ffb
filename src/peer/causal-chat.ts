// The chat state of one editor: causal delivery (hold-back buffer) plus the
// recent history, a longer log of its own messages (so a peer that lost many
// of them can still be repaired by their author), and the rules of the chat
// sync exchange used by newcomers and for repairing lost messages. Pure: no
// sockets, no timers, no wall clock (the caller passes the time). Never
// delivers a message twice, never delivers a reply before what it answers;
// only a message's author (or, once the author is gone, anyone) can declare
// it lost for good, and then it is skipped rather than waited for.

import { CausalBuffer, type ReceiveOutcome } from "./causal-buffer.ts";
import { ChatHistory, DEFAULT_CHAT_HISTORY_CAPACITY, type ChatEntry } from "./chat-history.ts";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { counterOf, dominates, type SessionSlot, type VectorClock } from "./vector-clock.ts";

/** Longest chat text accepted, in UTF-8 bytes. */
export const MAX_CHAT_TEXT_BYTES = 4096;
/** Longest sender name accepted, in UTF-8 bytes. */
export const MAX_SENDER_NAME_BYTES = 256;

export interface ChatSyncRequestData {
  readonly delivered: VectorClock;
  /** A newcomer's first request: answered even when nothing is missing. */
  readonly initial: boolean;
}

export interface ChatSyncReplyData {
  readonly messages: readonly ChatEntry[];
  readonly delivered: VectorClock;
  readonly initial: boolean;
  /** Highest number of the requester's slot the responder has seen (delivered or held). */
  readonly requesterSlotSeen: number;
}

export interface CausalChatOptions {
  slot: SessionSlot;
  senderName: string;
  /** Recent messages (everyone's) handed to newcomers and used for repairs (default 200). */
  historyCapacity?: number;
  /** Own messages kept for repairs beyond the history (default 10,000). */
  ownLogCapacity?: number;
  /** Most messages in one sync reply; the rest follows in the next (default 1000). */
  maxSyncReplyMessages?: number;
  maxHeld?: number;
}

export interface ChatReceiveResult {
  readonly outcome: ReceiveOutcome;
  readonly delivered: ChatEntry[];
}

export class CausalChat {
  readonly slot: SessionSlot;
  readonly senderName: string;
  readonly #buffer: CausalBuffer<ChatEntry>;
  readonly #history: ChatHistory<ChatEntry>;
  readonly #ownLog: ChatHistory<ChatEntry>;
  readonly #maxSyncReplyMessages: number;

  constructor(options: CausalChatOptions) {
    this.slot = options.slot;
    this.senderName = options.senderName;
    this.#buffer = new CausalBuffer<ChatEntry>({ maxHeld: options.maxHeld ?? 10_000 });
    this.#history = new ChatHistory<ChatEntry>(
      options.historyCapacity ?? DEFAULT_CHAT_HISTORY_CAPACITY,
    );
    this.#ownLog = new ChatHistory<ChatEntry>(options.ownLogCapacity ?? 10_000);
    this.#maxSyncReplyMessages = options.maxSyncReplyMessages ?? 1000;
  }

  get delivered(): VectorClock {
    return this.#buffer.delivered;
  }

  get heldCount(): number {
    return this.#buffer.heldCount;
  }

  /** The retained history, oldest first. */
  history(): ChatEntry[] {
    return this.#history.recent();
  }

  /**
   * Builds our next message and delivers it locally (own messages are
   * delivered too). Throws AlbumError(InvalidArgument) for an empty or
   * oversized text.
   */
  compose(text: string, sentAtUnixMs: number): ChatEntry {
    const problem = checkChatText(text);
    if (problem) throw new AlbumError(ErrorCode.InvalidArgument, problem);
    const { seq, clock } = this.#buffer.nextStamp(this.slot);
    const entry: ChatEntry = {
      slot: this.slot,
      seq,
      clock,
      senderName: this.senderName,
      text,
      sentAtUnixMs,
    };
    this.#record(this.#buffer.receive(entry).delivered);
    this.#ownLog.record(entry);
    return entry;
  }

  /** A message from a peer: returns what it delivered (maybe nothing yet). */
  receive(entry: ChatEntry): ChatReceiveResult {
    const result = this.#buffer.receive(entry);
    this.#record(result.delivered);
    return result;
  }

  syncRequest(initial: boolean): ChatSyncRequestData {
    return { delivered: this.#buffer.delivered, initial };
  }

  /**
   * What to send back to a sync request, or undefined when the requester lacks
   * nothing we know of (no reply needed unless it is a newcomer's first ask).
   * A newcomer gets the recent history only (whole: its own numbering
   * depends on it); a repair also gets our own older messages. `settled`, a
   * clock we delivered earlier, limits a repair to what it covers: what we
   * delivered since is most likely still on its way to the requester, and
   * sending it again would only add to the load of a busy session.
   */
  answer(
    request: ChatSyncRequestData,
    requesterSlot: SessionSlot,
    settled?: VectorClock,
  ): ChatSyncReplyData | undefined {
    const delivered = request.initial || settled === undefined ? this.#buffer.delivered : settled;
    if (!request.initial && dominates(request.delivered, delivered)) return undefined;
    const requesterSlotSeen = this.#buffer.seenCount(requesterSlot);
    const fromHistory = this.#history.missingFor(request.delivered);
    if (request.initial) {
      return { messages: fromHistory, delivered, initial: true, requesterSlotSeen };
    }
    // A repair also gets our own messages older than the history (only we
    // can supply them). They were delivered before all of the history, so
    // putting them first keeps the reply in a causal order.
    const firstOwnInHistory =
      this.#history.recent().find((entry) => entry.slot === this.slot)?.seq ??
      Number.POSITIVE_INFINITY;
    const olderOwn = this.#ownLog
      .missingFor(request.delivered)
      .filter((entry) => entry.seq < firstOwnInHistory);
    // Our delivery order is causal and `delivered` was our clock once, so
    // what it covers is a causal prefix of what the requester lacks.
    const missing = [...olderOwn, ...fromHistory].filter(
      (entry) => entry.seq <= counterOf(delivered, entry.slot),
    );
    if (missing.length <= this.#maxSyncReplyMessages) {
      return { messages: missing, delivered, initial: false, requesterSlotSeen };
    }
    // Too many for one reply: send the oldest part (a causal prefix, so what
    // it holds does not wait for what was cut), and report for each slot only
    // what the reply covers, so the requester does not take what was cut off
    // for lost (it asks again and gets the rest).
    const messages = missing.slice(0, this.#maxSyncReplyMessages);
    const covered = new Map(delivered);
    const cutSlots = new Set(missing.slice(this.#maxSyncReplyMessages).map((e) => e.slot));
    for (const slot of cutSlots) {
      const included = messages.filter((entry) => entry.slot === slot).map((entry) => entry.seq);
      covered.set(slot, Math.max(counterOf(request.delivered, slot), ...included));
    }
    return { messages, delivered: covered, initial: false, requesterSlotSeen };
  }

  /**
   * The answer of the peer in slot `from`: returns the messages it let us
   * deliver, in causal order. `isPresent` tells which slots have a holder in
   * the session now: a present author is the only one who can tell that one
   * of its messages is lost for good. Our own slot is numbered past
   * anything of it the peer has seen (a predecessor's messages included).
   */
  receiveSyncReply(
    reply: ChatSyncReplyData,
    from: SessionSlot,
    isPresent: (slot: SessionSlot) => boolean,
  ): ChatEntry[] {
    const delivered = this.#buffer.receiveSnapshot(
      reply.messages,
      reply.delivered,
      (slot) => reply.initial || slot === from || !isPresent(slot),
    );
    // Number our messages above anything of our slot a peer has seen.
    delivered.push(
      ...this.#buffer.fastForward(new Map([[this.slot, reply.requesterSlotSeen]]), true),
    );
    this.#record(delivered);
    return delivered;
  }

  /**
   * Numbers our next message above `seq`: the highest number our slot's
   * earlier holders used, as the central server recorded it. A newcomer in a
   * reused slot that reached no peer during its initial sync would otherwise
   * start again at 1, and its lines would be taken for its predecessor's.
   * Our slot's messages up to `seq` we have not seen are skipped (they are
   * the predecessor's, which left the session). Returns what that released.
   */
  numberAbove(seq: number): ChatEntry[] {
    const delivered = this.#buffer.fastForward(new Map([[this.slot, seq]]), true);
    this.#record(delivered);
    return delivered;
  }

  /**
   * The slots to ask when messages stay held: the authors of the messages
   * they wait for (each keeps a log of its own messages).
   */
  slotsWaitedFor(): SessionSlot[] {
    return [...new Set(this.#buffer.waitingFor().map((dependency) => dependency.slot))];
  }

  /**
   * Skips the messages held ones wait for whose author has left (`isPresent`
   * false), once no one could supply them. Returns what that released.
   */
  abandonDeparted(isPresent: (slot: SessionSlot) => boolean): ChatEntry[] {
    const floor = new Map<SessionSlot, number>();
    for (const { slot, seq } of this.#buffer.waitingFor()) {
      if (!isPresent(slot)) floor.set(slot, Math.max(seq, floor.get(slot) ?? 0));
    }
    const delivered = this.#buffer.fastForward(floor);
    this.#record(delivered);
    return delivered;
  }

  /** Keys ("slot:seq") of the held messages, to tell a lasting gap from a passing one. */
  heldKeys(): string[] {
    return this.#buffer.held().map((entry) => `${entry.slot}:${entry.seq}`);
  }

  #record(delivered: readonly ChatEntry[]): void {
    for (const entry of delivered) this.#history.record(entry);
  }
}

/** Why `text` cannot be a chat message, or undefined if it can. */
export function checkChatText(text: string): string | undefined {
  if (text.length === 0) return "a chat message cannot be empty";
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_CHAT_TEXT_BYTES) {
    return `a chat message is limited to ${MAX_CHAT_TEXT_BYTES} bytes, got ${bytes}`;
  }
  return undefined;
}
