// The peer engine of one editor in one editing session, as a pure state
// machine (sans-I/O): it takes events — a peer's message, a timer firing, the
// central server's word that a peer joined or left, a local change or chat
// line — and returns the actions to carry out (send, broadcast, connect or
// disconnect a peer, deliver chat, report, schedule a timer). It spreads
// CRDT deltas, delivers chat in causal order exactly once, brings a newcomer
// up to date and repairs losses by anti-entropy. This file holds the peers,
// the dispatch of events and the repair rounds; the replica and chat halves
// are replica-exchange.ts and chat-exchange.ts. The executors (session-peer.ts
// over ZeroMQ and real timers; the simulation over a simulated network and
// clock) only carry the actions out.
// It never touches a socket, a clock or a timer itself (time comes in with
// the events), never trusts what a peer writes about who it is (the slot
// comes with the event, proven by the mesh; the name from the SlotRoster,
// fed by the central server), and never connects to anyone the central
// server did not name.
import { create } from "@bufbuild/protobuf";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { silentLogger, type Logger } from "../common/logger.ts";
import { ByeSchema, HelloSchema, type Hello } from "../gen/albumshare/peer/v1/peer_pb.ts";
import { MAX_SENDER_NAME_BYTES } from "./causal-chat.ts";
import { ChatExchange } from "./chat-exchange.ts";
import type { ChatEntry } from "./chat-history.ts";
import { CoreOutput } from "./core-output.ts";
import { NewcomerSync } from "./newcomer-sync.ts";
import { PEER_PROTOCOL_VERSION, type PeerMessageBody } from "./peer-codec.ts";
import type { PeerAddress } from "./peer-mesh-types.ts";
import { RepairPlanner } from "./repair-planner.ts";
import { ReplicaExchange } from "./replica-exchange.ts";
import { RequestBudgets } from "./request-budgets.ts";
import { SlotRoster } from "./slot-roster.ts";
import {
  emptySessionCoreStats,
  type CoreAction,
  type CoreTimer,
  type PeerLeft,
  type SessionCoreOptions,
  type SessionCoreStats,
} from "./session-core-types.ts";
import type { SessionSlot, VectorClock } from "./vector-clock.ts";

export type { SyncOutcome } from "./newcomer-sync.ts";
export type {
  CoreAction,
  CoreTimer,
  PeerLeft,
  SessionCoreOptions,
  SessionCoreStats,
} from "./session-core-types.ts";

export class SessionCore {
  readonly slot: SessionSlot;
  readonly user: string;
  readonly stats: SessionCoreStats = emptySessionCoreStats();
  readonly #token: Uint8Array;
  readonly #logger: Logger;
  readonly #out = new CoreOutput();
  readonly #replica: ReplicaExchange;
  readonly #chat: ChatExchange;
  readonly #roster = new SlotRoster();
  readonly #budgets: RequestBudgets;
  readonly #peers = new Map<SessionSlot, PeerAddress>();
  readonly #intervals: { antiEntropy: number; repair: number };
  readonly #initial: NewcomerSync;
  readonly #repairs = new RepairPlanner();
  #state: "new" | "running" | "stopped" = "new";

  constructor(options: SessionCoreOptions) {
    if (options.user.length === 0 || Buffer.byteLength(options.user) > MAX_SENDER_NAME_BYTES) {
      throw new AlbumError(ErrorCode.InvalidArgument, "user name is empty or too long");
    }
    this.slot = options.slot;
    this.user = options.user;
    this.#token = options.sessionToken;
    this.#logger = (options.logger ?? silentLogger()).child({
      component: "session-core",
      slot: this.slot,
    });
    this.#roster.hold(this.slot, options.user);
    for (const past of options.pastEditors ?? []) this.#roster.held(past.slot, past.user);
    // An honest peer asks at most once per repair period and anti-entropy round
    // for each of replica and chat; four times that is its budget.
    const honestRate =
      2 * (1000 / (options.repairDelayMs ?? 200) + 1000 / (options.antiEntropyIntervalMs ?? 1000));
    this.#budgets = new RequestBudgets(
      options.syncRequestsPerSecond ?? Math.max(20, Math.ceil(4 * honestRate)),
      options.monotonicNow,
    );
    const parts = { out: this.#out, stats: this.stats, logger: this.#logger };
    this.#replica = new ReplicaExchange({ replica: options.replica, ...parts });
    this.#chat = new ChatExchange({
      slot: this.slot,
      user: options.user,
      historyCapacity: options.chatHistoryCapacity ?? 200,
      maxHeld: options.maxHeldChatMessages ?? 10_000,
      roster: this.#roster,
      ...parts,
    });
    this.#intervals = {
      antiEntropy: options.antiEntropyIntervalMs ?? 1000,
      repair: options.repairDelayMs ?? 200,
    };
    this.#initial = new NewcomerSync({
      retryMs: options.initialSyncRetryMs ?? 1000,
      timeoutMs: options.initialSyncTimeoutMs ?? 5000,
      peers: () => [...this.#peers.keys()],
      requestReplica: (slot) => this.#replica.request(slot, true),
      requestChat: (slot) => this.#chat.request(slot, true),
      schedule: (timer, delayMs) => this.#out.push({ kind: "schedule", timer, delayMs }),
      synced: (outcome) => {
        this.#chat.numberAbove(options.predecessorChatSeq ?? 0);
        this.#out.push({ kind: "synced", outcome });
      },
    });
  }

  get running(): boolean {
    return this.#state === "running";
  }

  get synced(): boolean {
    return this.#initial.done;
  }

  /** What chat we have delivered (per slot). */
  get deliveredChat(): VectorClock {
    return this.#chat.delivered;
  }

  chatHistory(): ChatEntry[] {
    return this.#chat.history();
  }

  peers(): PeerAddress[] {
    return [...this.#peers.values()];
  }

  hasPeer(slot: SessionSlot): boolean {
    return this.#peers.has(slot);
  }

  // --- events -----------------------------------------------------------------------

  /** Joins the editors the central server named: connect, ask for state and chat, start the timers. */
  start(initialPeers: readonly PeerAddress[]): CoreAction[] {
    if (this.#state !== "new") {
      throw new AlbumError(ErrorCode.FailedPrecondition, "a session peer can be started once");
    }
    this.#state = "running";
    for (const peer of initialPeers) this.#connect(peer);
    this.#initial.begin();
    const { repair, antiEntropy } = this.#intervals;
    this.#out.push({ kind: "schedule", timer: "repair", delayMs: repair });
    this.#out.push({ kind: "schedule", timer: "antiEntropy", delayMs: antiEntropy });
    return this.#out.flush();
  }

  /** Leaves: a Bye to every peer; no action after this one. */
  stop(reason: string): CoreAction[] {
    if (this.#state === "stopped") return [];
    const wasRunning = this.#state === "running";
    this.#state = "stopped";
    if (wasRunning && this.#peers.size > 0) {
      this.#out.broadcast({ case: "bye", value: create(ByeSchema, { reason }) });
    }
    this.#initial.finish(true);
    return this.#out.flush();
  }

  /** A message from `from`, whose slot the mesh proved. Bad input is counted and dropped. */
  receive(from: SessionSlot, body: PeerMessageBody): CoreAction[] {
    if (this.#state !== "running" || !this.#peers.has(from)) return [];
    try {
      this.#dispatch(from, body);
    } catch (error) {
      this.#logger.warn({ err: error, from, kind: body.case }, "peer message not handled");
    }
    return this.#out.flush();
  }

  /** A timer the core scheduled fired. */
  tick(timer: CoreTimer): CoreAction[] {
    if (this.#state !== "running") return [];
    switch (timer) {
      case "repair":
        this.#chat.settle();
        this.#repairRound();
        this.#out.push({ kind: "schedule", timer, delayMs: this.#intervals.repair });
        break;
      case "antiEntropy":
        this.#antiEntropyRound();
        this.#out.push({ kind: "schedule", timer, delayMs: this.#intervals.antiEntropy });
        break;
      case "initialRetry":
        this.#initial.retry();
        break;
      case "initialTimeout":
        this.#initial.finish(true);
        break;
    }
    return this.#out.flush();
  }

  /** The central server says this editor is in the session (idempotent). */
  addPeer(peer: PeerAddress): CoreAction[] {
    this.#requireRunning();
    this.#connect(peer);
    return this.#out.flush();
  }

  /** The central server says this editor left, crashed, or (revoke) was removed. */
  removePeer(slot: SessionSlot, revoke = false): CoreAction[] {
    this.#peerGone(slot, "removed", revoke);
    return this.#out.flush();
  }

  /** A local replica change, to spread. */
  localDelta(encodedDelta: Uint8Array): CoreAction[] {
    this.#requireRunning();
    this.#replica.localDelta(encodedDelta);
    return this.#out.flush();
  }

  /**
   * A chat line of ours: composed, sent, delivered locally. Only after the
   * initial sync (a reused slot continues its predecessor's numbering);
   * throws InvalidArgument for an empty or oversized text.
   */
  chat(text: string, nowUnixMs: number): { entry: ChatEntry; actions: CoreAction[] } {
    this.#requireRunning();
    if (!this.#initial.done) {
      throw new AlbumError(ErrorCode.FailedPrecondition, "chat waits for the initial sync");
    }
    const entry = this.#chat.compose(text, nowUnixMs);
    return { entry, actions: this.#out.flush() };
  }

  /** An anti-entropy round with every peer now (e.g. after a reconnection). */
  repairNow(): CoreAction[] {
    this.#requireRunning();
    for (const slot of this.#peers.keys()) this.#askForRepair(slot, true, true);
    return this.#out.flush();
  }

  // --- incoming ---------------------------------------------------------------------

  #dispatch(from: SessionSlot, body: PeerMessageBody): void {
    switch (body.case) {
      case "hello":
        this.#onHello(from, body.value);
        return;
      case "crdtDelta":
        this.#replica.onDelta(from, body.value.seq, body.value.delta);
        return;
      case "crdtSyncRequest":
        if (this.#withinBudget(from)) this.#replica.onSyncRequest(from, body.value);
        return;
      case "crdtSyncReply":
        if (this.#replica.onSyncReply(from, body.value) !== "initial") return;
        if (!this.#initial.replicaArrived(from)) return;
        // Started from one peer's state; the others send only what it lacked.
        for (const slot of this.#peers.keys()) {
          if (slot !== from) this.#askForRepair(slot, true, false);
        }
        this.#initial.check();
        return;
      case "chatMessage":
        this.#chat.onMessage(from, body.value);
        return;
      case "chatSyncRequest":
        if (this.#withinBudget(from)) this.#chat.onSyncRequest(from, body.value);
        return;
      case "chatSyncReply":
        if (this.#chat.onSyncReply(from, body.value, this.#isPresent) !== "initial") return;
        if (this.#initial.chatArrived(from)) this.#initial.check();
        return;
      case "bye":
        this.#peerGone(from, "bye", false);
        return;
      default:
        return;
    }
  }

  /** A sync request makes us encode what the peer lacks: each peer has a budget of them. */
  #withinBudget(from: SessionSlot): boolean {
    if (this.#budgets.take(from)) return true;
    this.stats.requestsOverBudget++;
    return false;
  }

  #onHello(from: SessionSlot, hello: Hello): void {
    if (
      hello.protocolVersion !== PEER_PROTOCOL_VERSION ||
      !sameBytes(hello.sessionToken, this.#token) ||
      hello.slot !== from
    ) {
      this.stats.hellosIgnored++;
      this.#logger.warn(
        { from, version: hello.protocolVersion },
        "hello of another session ignored",
      );
      return;
    }
    // Only the central server names peers: a Hello never makes us connect anywhere.
    this.#replica.expect(from, hello.crdtDeltasSent);
  }

  // --- repair -------------------------------------------------------------------------

  /** Targeted repair: asks the peers behind lasting gaps for what we lack. */
  #repairRound(): void {
    const round = this.#repairs.repairRound({
      self: this.slot,
      lastingGaps: this.#replica.lastingGaps(),
      heldKeys: this.#chat.heldKeys(),
      waitedFor: this.#chat.slotsWaitedFor(),
      peers: [...this.#peers.keys()],
      initialSyncDone: this.#initial.done,
    });
    for (const { target, replica, chat } of round.requests)
      this.#askForRepair(target, replica, chat);
    if (round.abandonDeparted) this.#chat.abandonDeparted(this.#isPresent);
  }

  /** Periodic anti-entropy: one peer per round, in turn, for both replica and chat. */
  #antiEntropyRound(): void {
    // A newcomer's initial sync is already asking everyone; a repair request
    // now would only fetch, say, a peer's whole own log before its history.
    if (!this.#initial.done) return;
    const target = this.#repairs.nextPeer([...this.#peers.keys()]);
    if (target === undefined) return;
    this.stats.antiEntropyRounds++;
    this.#askForRepair(target, true, true);
  }

  #askForRepair(target: SessionSlot, replica: boolean, chat: boolean): void {
    if (replica) {
      this.stats.crdtRepairRequests++;
      this.#replica.request(target, false);
    }
    if (chat) {
      this.stats.chatRepairRequests++;
      this.#chat.request(target, false);
    }
  }

  // --- peers --------------------------------------------------------------------------

  readonly #isPresent = (slot: SessionSlot): boolean => slot === this.slot || this.#peers.has(slot);

  #connect(peer: PeerAddress): void {
    if (peer.slot === this.slot) return;
    const previous = this.#peers.get(peer.slot);
    const moved =
      previous === undefined ||
      previous.address !== peer.address ||
      !sameBytes(previous.publicKey, peer.publicKey);
    this.#peers.set(peer.slot, peer);
    this.#roster.hold(peer.slot, peer.user);
    if (!moved && previous.user === peer.user) return;
    if (moved) {
      this.#out.push({ kind: "connect", peer });
      // A new holder of the slot (or a new address) numbers its deltas afresh.
      this.#replica.forget(peer.slot);
      this.#chat.forget(peer.slot);
    }
    this.#out.send(peer.slot, {
      case: "hello",
      value: create(HelloSchema, {
        protocolVersion: PEER_PROTOCOL_VERSION,
        slot: this.slot,
        sessionToken: this.#token,
        crdtDeltasSent: this.#replica.deltasSent,
      }),
    });
    this.#out.push({ kind: "peerJoined", peer });
  }

  #peerGone(slot: SessionSlot, reason: PeerLeft["reason"], revoke: boolean): void {
    const peer = this.#peers.get(slot);
    if (!peer) return;
    this.#peers.delete(slot);
    this.#out.push({ kind: "disconnect", slot, revoke });
    this.#replica.forget(slot);
    this.#roster.release(slot);
    this.#chat.forget(slot);
    this.#out.push({ kind: "peerLeft", left: { slot, user: peer.user, reason } });
    this.#initial.peerGone(slot);
  }

  #requireRunning(): void {
    if (this.#state !== "running") {
      throw new AlbumError(ErrorCode.FailedPrecondition, "the editing session is not active");
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a).equals(Buffer.from(b));
}
