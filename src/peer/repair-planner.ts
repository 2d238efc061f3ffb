// When and whom the session core asks for repairs, as pure bookkeeping: a
// delta gap still open one repair period later sends a replica request to its
// sender; chat messages still held one period later send chat requests to the
// authors they wait for (an author who left: the others in turn), at most
// once per few periods per peer; once every peer had its turn, what a
// departed author sent is given up; and periodic anti-entropy picks one peer
// per round, in turn. It decides only; the core sends.
import type { SessionSlot } from "./vector-clock.ts";

/** Repair periods between two targeted chat repair requests to the same peer. */
const CHAT_REPAIR_COOLDOWN_PERIODS = 3;

export interface RepairRequest {
  target: SessionSlot;
  replica: boolean;
  chat: boolean;
}

export interface RepairRoundInput {
  self: SessionSlot;
  /** Senders whose delta gaps lasted a whole period. */
  lastingGaps: readonly SessionSlot[];
  /** Keys of the chat messages held now. */
  heldKeys: readonly string[];
  /** Authors whose messages held ones wait for. */
  waitedFor: readonly SessionSlot[];
  /** The peers present now. */
  peers: readonly SessionSlot[];
  /** A newcomer's initial sync is still asking everyone. */
  initialSyncDone: boolean;
}

export interface RepairRound {
  requests: RepairRequest[];
  /** Give up on what departed authors' held messages wait for. */
  abandonDeparted: boolean;
}

export class RepairPlanner {
  #period = 0;
  #previousHeld = new Set<string>();
  #departedRounds = 0;
  #cursor = 0;
  readonly #chatAsked = new Map<SessionSlot, number>();

  repairRound(input: RepairRoundInput): RepairRound {
    this.#period++;
    const requests: RepairRequest[] = [];
    const present = new Set(input.peers);
    for (const sender of input.lastingGaps) {
      const target = present.has(sender) ? sender : this.nextPeer(input.peers);
      if (target !== undefined) requests.push({ target, replica: true, chat: false });
    }
    const heldNow = new Set(input.heldKeys);
    const lasting = [...heldNow].some((key) => this.#previousHeld.has(key));
    this.#previousHeld = heldNow;
    // During a newcomer's initial sync every peer is being asked already.
    if (!lasting || !input.initialSyncDone) {
      this.#departedRounds = 0;
      return { requests, abandonDeparted: false };
    }
    // Ask the authors of what held messages wait for (they log their own
    // messages); for an author who left, ask the others in turn.
    const asked = new Set<SessionSlot>();
    let waitsOnDeparted = false;
    for (const author of input.waitedFor) {
      const isPresent = author === input.self || present.has(author);
      waitsOnDeparted ||= !isPresent;
      const target = isPresent ? author : this.nextPeer(input.peers);
      if (target === undefined || target === input.self || asked.has(target)) continue;
      asked.add(target);
      // Not again while an answer (up to a thousand messages) may be on its way.
      const last = this.#chatAsked.get(target);
      if (last !== undefined && this.#period - last < CHAT_REPAIR_COOLDOWN_PERIODS) continue;
      this.#chatAsked.set(target, this.#period);
      requests.push({ target, replica: false, chat: true });
    }
    // Once every peer had its turn, what a departed author sent is nowhere.
    this.#departedRounds = waitsOnDeparted ? this.#departedRounds + 1 : 0;
    const abandonDeparted = this.#departedRounds > input.peers.length + 2;
    if (abandonDeparted) this.#departedRounds = 0;
    return { requests, abandonDeparted };
  }

  /** The next peer in turn (ascending slots, round robin), or undefined when alone. */
  nextPeer(peers: readonly SessionSlot[]): SessionSlot | undefined {
    const slots = [...peers].sort((a, b) => a - b);
    if (slots.length === 0) return undefined;
    return slots[this.#cursor++ % slots.length];
  }
}
