// A newcomer's initial sync, as pure bookkeeping for the session core: ask
// every peer for its chat history and one peer (the next, if it does not
// answer) for the replica; over once the replica came from one peer and the
// chat from every peer still present, or at the timeout. It only decides;
// the requests, timers and the "synced" report go out through callbacks the
// core turns into actions.
import type { CoreTimer } from "./session-core-types.ts";
import type { SessionSlot } from "./vector-clock.ts";

/** How a newcomer's initial sync ended. */
export interface SyncOutcome {
  /** The peer whose replica state we started from; undefined when none answered (or none was there). */
  replicaFrom: SessionSlot | undefined;
  /** The peers that handed us their chat history and clock. */
  chatFrom: SessionSlot[];
  /** True when we stopped waiting (timeout, or stop) before every peer answered. */
  timedOut: boolean;
}

export interface NewcomerSyncOptions {
  retryMs: number;
  timeoutMs: number;
  /** The peers present now. */
  peers: () => SessionSlot[];
  requestReplica: (slot: SessionSlot) => void;
  requestChat: (slot: SessionSlot) => void;
  schedule: (timer: CoreTimer, delayMs: number) => void;
  synced: (outcome: SyncOutcome) => void;
}

export class NewcomerSync {
  readonly #options: NewcomerSyncOptions;
  /** Peers whose chat history we still wait for. */
  readonly #chatPending = new Set<SessionSlot>();
  readonly #chatFrom: SessionSlot[] = [];
  #replicaFrom: SessionSlot | undefined;
  /** Peers asked for the replica so far, in order. */
  readonly #replicaAsked: SessionSlot[] = [];
  #done = false;

  constructor(options: NewcomerSyncOptions) {
    this.#options = options;
  }

  get done(): boolean {
    return this.#done;
  }

  begin(): void {
    const peers = this.#options.peers();
    if (peers.length === 0) {
      this.finish(false);
      return;
    }
    for (const slot of peers) {
      this.#chatPending.add(slot);
      this.#options.requestChat(slot);
    }
    this.#askNextForReplica();
    this.#options.schedule("initialRetry", this.#options.retryMs);
    this.#options.schedule("initialTimeout", this.#options.timeoutMs);
  }

  /** The retry timer: ask again whoever has not answered. */
  retry(): void {
    if (this.#done) return;
    for (const slot of this.#chatPending) this.#options.requestChat(slot);
    if (this.#replicaFrom === undefined) this.#askNextForReplica();
    this.#options.schedule("initialRetry", this.#options.retryMs);
  }

  /** An initial replica reply came; true if it is the one we start from. */
  replicaArrived(from: SessionSlot): boolean {
    if (this.#done || this.#replicaFrom !== undefined) return false;
    this.#replicaFrom = from;
    return true;
  }

  /** An initial chat reply came; true if we were waiting for it. */
  chatArrived(from: SessionSlot): boolean {
    if (!this.#chatPending.delete(from)) return false;
    this.#chatFrom.push(from);
    return true;
  }

  /** Over when the replica came from one peer and the chat from every peer still present. */
  check(): void {
    if (this.#done) return;
    const present = new Set(this.#options.peers());
    for (const slot of this.#chatPending) if (!present.has(slot)) this.#chatPending.delete(slot);
    const replicaDone = this.#replicaFrom !== undefined || present.size === 0;
    if (replicaDone && this.#chatPending.size === 0) this.finish(false);
  }

  /** A peer left: if it was the one asked for the replica, ask the next. */
  peerGone(slot: SessionSlot): void {
    if (this.#done) return;
    if (this.#replicaFrom === undefined && this.#replicaAsked.at(-1) === slot) {
      this.#askNextForReplica();
    }
    this.check();
  }

  finish(timedOut: boolean): void {
    if (this.#done) return;
    this.#done = true;
    this.#options.synced({
      replicaFrom: this.#replicaFrom,
      chatFrom: [...this.#chatFrom],
      timedOut,
    });
  }

  /** Asks one peer (the next not yet asked, else the next in turn) for the whole replica state. */
  #askNextForReplica(): void {
    const peers = this.#options.peers();
    if (peers.length === 0) return;
    const fresh = peers.find((slot) => !this.#replicaAsked.includes(slot));
    const target = fresh ?? peers[this.#replicaAsked.length % peers.length]!;
    this.#replicaAsked.push(target);
    this.#options.requestReplica(target);
  }
}
