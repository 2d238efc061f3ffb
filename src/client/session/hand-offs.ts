// An editor's hand-offs to the central server, decided without I/O: when one
// runs — periodically (a tick, unless one runs or waits) and at once on
// request (membership changes must reach the server without delay) — and what
// it carries: every change and delivered chat message no acknowledged
// hand-off covered (a lost one is simply included in the next). Strictly one
// at a time: a request made while one runs is queued behind it, and requests
// queued together share one hand-off. Each hand-off has an id; its reply
// (done) acknowledges exactly what it carried, its failure acknowledges
// nothing. Part of the album-session core; never lets two be in flight, and
// never forgets what an unacknowledged one carried.
import type { ChatEntry } from "../../peer/index.ts";
import type { KeptChatMessage } from "../central-client.ts";
import type { ChatHandOffs } from "./chat-hand-offs.ts";
import type { EditorReplica, HandOffReceipt } from "./editor-replica.ts";
import type { SessionAction } from "./session-actions.ts";

export class HandOffs {
  readonly #replica: EditorReplica;
  readonly #chat: ChatHandOffs;
  /** False while the central connection is down: a hand-off due then fails at once. */
  readonly #canRun: () => boolean;
  /** The hand-off in flight, the requests it answers, and what it carries once sent. */
  #running: { id: number; waiters: number[]; carried?: Receipts } | undefined;
  /** Requests made while one ran: answered by the next hand-off. */
  #queued: number[] | undefined;
  #nextId = 1;

  constructor(replica: EditorReplica, chat: ChatHandOffs, canRun: () => boolean) {
    this.#replica = replica;
    this.#chat = chat;
    this.#canRun = canRun;
  }

  /** Nothing running and nothing queued. */
  get idle(): boolean {
    return this.#running === undefined && this.#queued === undefined;
  }

  /** Something (a change or a delivered chat message) awaits a hand-off. */
  get pending(): boolean {
    return this.#replica.hasUnhandedChanges || !this.#chat.isEmpty;
  }

  /** A periodic tick: a hand-off starts only when there is something and none runs or waits. */
  periodic(): SessionAction[] {
    if (!this.idle || !this.pending || !this.#canRun()) return [];
    return this.#start([]);
  }

  /** A hand-off now for `waiter` (after the one in flight); it hears handOffSettled. */
  request(waiter: number): SessionAction[] {
    if (this.#running) {
      (this.#queued ??= []).push(waiter);
      return [];
    }
    return this.#start([waiter]);
  }

  /** The server acknowledged hand-off `id`: what it carried is the server's now. */
  done(id: number): SessionAction[] {
    if (this.#running?.id !== id) return [];
    if (this.#running.carried) acknowledge(this.#replica, this.#chat, this.#running.carried);
    return this.#settle(true);
  }

  /** Hand-off `id` failed: nothing acknowledged; the next one carries it again. */
  failed(id: number, error: unknown): SessionAction[] {
    if (this.#running?.id !== id) return [];
    return [
      {
        kind: "log",
        level: "warn",
        message: "hand-off failed; retrying at the next period",
        err: error,
      },
      ...this.#settle(false),
    ];
  }

  /** A request that cannot run (the session is not open, or the link is down): "not handed off". */
  cancelOne(waiter: number): SessionAction[] {
    return [settled(waiter, false)];
  }

  /** A chat message we delivered: carried by the next hand-off. */
  recordChat(entry: ChatEntry): void {
    this.#chat.record(entry);
  }

  /** Everything stops: every request still waiting hears "not handed off". */
  cancel(): SessionAction[] {
    const waiters = [...(this.#running?.waiters ?? []), ...(this.#queued ?? [])];
    this.#running = undefined;
    this.#queued = undefined;
    return waiters.map((waiter) => settled(waiter, false));
  }

  /** Everything not acknowledged, for a resume or the final hand-back, and its receipts. */
  prepareAll(): { delta: Uint8Array; chat: KeptChatMessage[]; receipts: Receipts } {
    const { delta, receipt } = this.#replica.prepareHandOff();
    const chat = this.#chat.prepare();
    return { delta, chat: chat.messages, receipts: { replica: receipt, chat: chat.receipt } };
  }

  /** A resume (or hand-back) that carried `receipts` was acknowledged. */
  acknowledge(receipts: Receipts): void {
    acknowledge(this.#replica, this.#chat, receipts);
  }

  #start(waiters: number[]): SessionAction[] {
    const id = this.#nextId++;
    this.#running = { id, waiters };
    if (!this.pending) return this.#settle(true);
    if (!this.#canRun()) return this.#settle(false);
    const { delta, chat, receipts } = this.prepareAll();
    this.#running.carried = receipts;
    return [{ kind: "handOff", id, delta, chat }];
  }

  /** The running hand-off is over: answer its requests, start the queued one. */
  #settle(ok: boolean): SessionAction[] {
    const waiters = this.#running?.waiters ?? [];
    this.#running = undefined;
    const queued = this.#queued;
    this.#queued = undefined;
    const actions = waiters.map((waiter) => settled(waiter, ok));
    if (queued) actions.push(...this.#start(queued));
    return actions;
  }
}

export interface Receipts {
  readonly replica: HandOffReceipt;
  readonly chat: number;
}

function acknowledge(replica: EditorReplica, chat: ChatHandOffs, receipts: Receipts): void {
  replica.acknowledgeHandOff(receipts.replica);
  chat.acknowledge(receipts.chat);
}

function settled(waiter: number, ok: boolean): SessionAction {
  return { kind: "handOffSettled", waiter, ok };
}
