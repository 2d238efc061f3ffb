// The peer engine of one editor in one editing session, as a pure state
// machine (sans-I/O): it takes events — a peer's message, a timer firing, the
// central server's word that a peer joined or left, a local change or chat
// line — and returns the actions to carry out: send, broadcast, connect or
// disconnect a peer, deliver chat, report, schedule a timer. It spreads local
// CRDT deltas and applies remote ones, delivers chat in causal order exactly
// once, brings a newcomer up to date from the editors already there, and
// repairs losses by anti-entropy. The executors (session-peer.ts over
// ZeroMQ and real timers; the simulation over a simulated network and
// clock) do nothing but carry the actions out.
// It never touches a socket, a clock or a timer itself (time comes in with
// the events), never trusts what a peer writes about who it is (the slot
// comes with the event, proven by the mesh; the name from the SlotRoster,
// fed by the central server), and never connects to anyone the central
// server did not name.
import { create } from "@bufbuild/protobuf";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { silentLogger, type Logger } from "../common/logger.ts";
import {
  ByeSchema,
  CrdtDeltaSchema,
  CrdtSyncReplySchema,
  CrdtSyncRequestSchema,
  HelloSchema,
  type ChatMessage as ChatMessageWire,
  type ChatSyncReply as ChatSyncReplyWire,
  type ChatSyncRequest as ChatSyncRequestWire,
  type CrdtSyncReply,
  type CrdtSyncRequest,
  type Hello,
} from "../gen/albumshare/peer/v1/peer_pb.ts";
import { CausalChat, MAX_SENDER_NAME_BYTES } from "./causal-chat.ts";
import type { ChatEntry } from "./chat-history.ts";
import { DeltaGapTracker } from "./delta-gap-tracker.ts";
import { NewcomerSync } from "./newcomer-sync.ts";
import {
  chatEntryFromWire,
  chatEntryToWire,
  chatSyncReplyFromWire,
  chatSyncReplyToWire,
  chatSyncRequestFromWire,
  chatSyncRequestToWire,
  PEER_PROTOCOL_VERSION,
  type PeerMessageBody,
} from "./peer-codec.ts";
import type { PeerAddress } from "./peer-mesh.ts";
import type { ReplicaPort } from "./replica-port.ts";
import { RepairPlanner } from "./repair-planner.ts";
import { OutstandingRequests, RequestBudgets } from "./request-budgets.ts";
import { SlotRoster } from "./slot-roster.ts";
import type {
  CoreAction,
  CoreTimer,
  PeerLeft,
  SessionCoreOptions,
  SessionCoreStats,
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

const EMPTY_BYTES = new Uint8Array(0);

export class SessionCore {
  readonly slot: SessionSlot;
  readonly user: string;
  readonly stats: SessionCoreStats = {
    deltasSent: 0,
    deltasApplied: 0,
    deltasRefused: 0,
    crdtRepairRequests: 0,
    chatRepairRequests: 0,
    antiEntropyRounds: 0,
    chatRefused: 0,
    hellosIgnored: 0,
    unsolicitedReplies: 0,
    requestsOverBudget: 0,
  };
  readonly #replica: ReplicaPort;
  readonly #token: Uint8Array;
  readonly #logger: Logger;
  readonly #chat: CausalChat;
  readonly #gaps = new DeltaGapTracker();
  readonly #roster = new SlotRoster();
  readonly #budgets: RequestBudgets;
  readonly #asked = { crdt: new OutstandingRequests(), chat: new OutstandingRequests() };
  readonly #peers = new Map<SessionSlot, PeerAddress>();
  readonly #intervals: { antiEntropy: number; repair: number };
  readonly #initial: NewcomerSync;
  readonly #repairs = new RepairPlanner();
  #state: "new" | "running" | "stopped" = "new";
  #out: CoreAction[] = [];
  #deltaSeq = 0;

  constructor(options: SessionCoreOptions) {
    if (options.user.length === 0 || Buffer.byteLength(options.user) > MAX_SENDER_NAME_BYTES) {
      throw new AlbumError(ErrorCode.InvalidArgument, "user name is empty or too long");
    }
    this.slot = options.slot;
    this.user = options.user;
    this.#replica = options.replica;
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
    this.#chat = new CausalChat({
      slot: this.slot,
      senderName: options.user,
      historyCapacity: options.chatHistoryCapacity ?? 200,
      maxHeld: options.maxHeldChatMessages ?? 10_000,
    });
    this.#intervals = {
      antiEntropy: options.antiEntropyIntervalMs ?? 1000,
      repair: options.repairDelayMs ?? 200,
    };
    this.#initial = new NewcomerSync({
      retryMs: options.initialSyncRetryMs ?? 1000,
      timeoutMs: options.initialSyncTimeoutMs ?? 5000,
      peers: () => [...this.#peers.keys()],
      requestReplica: (slot) => this.#requestCrdt(slot, true),
      requestChat: (slot) => this.#requestChat(slot, true),
      schedule: (timer, delayMs) => this.#out.push({ kind: "schedule", timer, delayMs }),
      synced: (outcome) => this.#out.push({ kind: "synced", outcome }),
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
    this.#out.push(
      { kind: "schedule", timer: "repair", delayMs: this.#intervals.repair },
      { kind: "schedule", timer: "antiEntropy", delayMs: this.#intervals.antiEntropy },
    );
    return this.#flush();
  }

  /** Leaves: a Bye to every peer; no action after this one. */
  stop(reason: string): CoreAction[] {
    if (this.#state === "stopped") return [];
    const wasRunning = this.#state === "running";
    this.#state = "stopped";
    if (wasRunning && this.#peers.size > 0) {
      this.#out.push({
        kind: "broadcast",
        body: { case: "bye", value: create(ByeSchema, { reason }) },
      });
    }
    this.#initial.finish(true);
    return this.#flush();
  }

  /** A message from `from`, whose slot the mesh proved. Bad input is counted and dropped. */
  receive(from: SessionSlot, body: PeerMessageBody): CoreAction[] {
    if (this.#state !== "running" || !this.#peers.has(from)) return [];
    try {
      switch (body.case) {
        case "hello":
          this.#onHello(from, body.value);
          break;
        case "crdtDelta":
          this.#gaps.record(from, body.value.seq);
          this.#applyRemote(from, body.value.delta);
          break;
        case "crdtSyncRequest":
          this.#onCrdtSyncRequest(from, body.value);
          break;
        case "crdtSyncReply":
          this.#onCrdtSyncReply(from, body.value);
          break;
        case "chatMessage":
          this.#onChatMessage(from, body.value);
          break;
        case "chatSyncRequest":
          this.#onChatSyncRequest(from, body.value);
          break;
        case "chatSyncReply":
          this.#onChatSyncReply(from, body.value);
          break;
        case "bye":
          this.#peerGone(from, "bye", false);
          break;
        default:
          break;
      }
    } catch (error) {
      this.#logger.warn({ err: error, from, kind: body.case }, "peer message not handled");
    }
    return this.#flush();
  }

  /** A timer the core scheduled fired. */
  tick(timer: CoreTimer): CoreAction[] {
    if (this.#state !== "running") return [];
    switch (timer) {
      case "repair":
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
    return this.#flush();
  }

  /** The central server says this editor is in the session (idempotent). */
  addPeer(peer: PeerAddress): CoreAction[] {
    this.#requireRunning();
    this.#connect(peer);
    return this.#flush();
  }

  /** The central server says this editor left, crashed, or (revoke) was removed. */
  removePeer(slot: SessionSlot, revoke = false): CoreAction[] {
    this.#peerGone(slot, "removed", revoke);
    return this.#flush();
  }

  /** A local replica change, to spread. */
  localDelta(encodedDelta: Uint8Array): CoreAction[] {
    this.#requireRunning();
    this.#deltaSeq++;
    this.stats.deltasSent++;
    this.#out.push({
      kind: "broadcast",
      body: {
        case: "crdtDelta",
        value: create(CrdtDeltaSchema, { seq: this.#deltaSeq, delta: encodedDelta }),
      },
    });
    return this.#flush();
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
    this.#out.push({
      kind: "broadcast",
      body: { case: "chatMessage", value: chatEntryToWire(entry) },
    });
    this.#deliver([entry]);
    return { entry, actions: this.#flush() };
  }

  /** An anti-entropy round with every peer now (e.g. after a reconnection). */
  repairNow(): CoreAction[] {
    this.#requireRunning();
    for (const slot of this.#peers.keys()) this.#askForRepair(slot, true, true);
    return this.#flush();
  }

  // --- incoming ---------------------------------------------------------------------

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
    this.#gaps.expect(from, hello.crdtDeltasSent);
  }

  #onCrdtSyncRequest(from: SessionSlot, request: CrdtSyncRequest): void {
    if (!this.#budgets.take(from)) {
      this.stats.requestsOverBudget++;
      return;
    }
    let missing: Uint8Array | undefined;
    try {
      missing = this.#replica.encodedMissingFor(request.context);
    } catch (error) {
      this.#logger.warn({ err: error, from }, "malformed causal context from peer");
      return;
    }
    if (missing === undefined && !request.initial) return;
    this.#send(from, {
      case: "crdtSyncReply",
      value: create(CrdtSyncReplySchema, {
        delta: missing ?? EMPTY_BYTES,
        initial: request.initial,
      }),
    });
  }

  #onCrdtSyncReply(from: SessionSlot, reply: CrdtSyncReply): void {
    if (!this.#asked.crdt.answered(from)) {
      this.stats.unsolicitedReplies++;
      return;
    }
    if (reply.delta.byteLength > 0) this.#applyRemote(from, reply.delta);
    if (!reply.initial || !this.#initial.replicaArrived(from)) return;
    // Started from one peer's state; the others send only what it lacked.
    for (const slot of this.#peers.keys()) {
      if (slot !== from) this.#askForRepair(slot, true, false);
    }
    this.#initial.check();
  }

  #onChatMessage(from: SessionSlot, wire: ChatMessageWire): void {
    const entry = chatEntryFromWire(wire);
    if (
      typeof entry === "string" ||
      entry.slot !== from ||
      entry.senderName !== this.#roster.currentUser(from)
    ) {
      this.stats.chatRefused++;
      this.#logger.warn({ from, problem: entry }, "chat message refused");
      return;
    }
    const result = this.#chat.receive(entry);
    if (result.outcome === "invalid" || result.outcome === "overflow") this.stats.chatRefused++;
    this.#deliver(result.delivered);
  }

  #onChatSyncRequest(from: SessionSlot, wire: ChatSyncRequestWire): void {
    if (!this.#budgets.take(from)) {
      this.stats.requestsOverBudget++;
      return;
    }
    const request = chatSyncRequestFromWire(wire);
    if (typeof request === "string") {
      this.#logger.warn({ from, problem: request }, "chat sync request refused");
      return;
    }
    const reply = this.#chat.answer(request, from);
    if (reply) this.#send(from, chatSyncReplyToWire(reply));
  }

  #onChatSyncReply(from: SessionSlot, wire: ChatSyncReplyWire): void {
    if (!this.#asked.chat.answered(from)) {
      this.stats.unsolicitedReplies++;
      return;
    }
    const parsed = chatSyncReplyFromWire(wire);
    if (typeof parsed === "string") {
      this.#logger.warn({ from, problem: parsed }, "chat sync reply refused");
      return;
    }
    // Relayed lines must carry a name the central server gave their slot.
    const vouched = parsed.reply.messages.filter((entry) =>
      this.#roster.allows(entry.slot, entry.senderName),
    );
    this.stats.chatRefused += parsed.refused + parsed.reply.messages.length - vouched.length;
    const reply = { ...parsed.reply, messages: vouched };
    this.#deliver(this.#chat.receiveSyncReply(reply, from, this.#isPresent));
    if (reply.initial && this.#initial.chatArrived(from)) this.#initial.check();
  }

  // --- repair -------------------------------------------------------------------------

  /** Targeted repair: asks the peers behind lasting gaps for what we lack. */
  #repairRound(): void {
    const round = this.#repairs.repairRound({
      self: this.slot,
      lastingGaps: this.#gaps.closePeriod(),
      heldKeys: this.#chat.heldKeys(),
      waitedFor: this.#chat.slotsWaitedFor(),
      peers: [...this.#peers.keys()],
      initialSyncDone: this.#initial.done,
    });
    for (const { target, replica, chat } of round.requests)
      this.#askForRepair(target, replica, chat);
    if (round.abandonDeparted) this.#deliver(this.#chat.abandonDeparted(this.#isPresent));
  }

  /** Periodic anti-entropy: one peer per round, in turn, for both replica and chat. */
  #antiEntropyRound(): void {
    // A newcomer's initial sync is already asking everyone; a repair request
    // now would only fetch, say, a peer's whole own log before its history.
    if (!this.#initial.done) return;
    const target = this.#nextPeer();
    if (target === undefined) return;
    this.stats.antiEntropyRounds++;
    this.#askForRepair(target, true, true);
  }

  #askForRepair(target: SessionSlot | undefined, replica: boolean, chat: boolean): void {
    if (target === undefined) return;
    if (replica) {
      this.stats.crdtRepairRequests++;
      this.#requestCrdt(target, false);
    }
    if (chat) {
      this.stats.chatRepairRequests++;
      this.#requestChat(target, false);
    }
  }

  #requestCrdt(target: SessionSlot, initial: boolean): void {
    this.#send(target, {
      case: "crdtSyncRequest",
      value: create(CrdtSyncRequestSchema, { context: this.#replica.encodedContext(), initial }),
    });
    this.#asked.crdt.sent(target);
  }

  #requestChat(target: SessionSlot, initial: boolean): void {
    this.#send(target, chatSyncRequestToWire(this.#chat.syncRequest(initial)));
    this.#asked.chat.sent(target);
  }

  #nextPeer(): SessionSlot | undefined {
    return this.#repairs.nextPeer([...this.#peers.keys()]);
  }

  // --- helpers ------------------------------------------------------------------------

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
      this.#gaps.forget(peer.slot);
      this.#asked.crdt.forget(peer.slot);
      this.#asked.chat.forget(peer.slot);
    }
    this.#send(peer.slot, {
      case: "hello",
      value: create(HelloSchema, {
        protocolVersion: PEER_PROTOCOL_VERSION,
        slot: this.slot,
        sessionToken: this.#token,
        crdtDeltasSent: this.#deltaSeq,
      }),
    });
    this.#out.push({ kind: "peerJoined", peer });
  }

  #peerGone(slot: SessionSlot, reason: PeerLeft["reason"], revoke: boolean): void {
    const peer = this.#peers.get(slot);
    if (!peer) return;
    this.#peers.delete(slot);
    this.#out.push({ kind: "disconnect", slot, revoke });
    this.#gaps.forget(slot);
    this.#roster.release(slot);
    this.#asked.crdt.forget(slot);
    this.#asked.chat.forget(slot);
    this.#out.push({ kind: "peerLeft", left: { slot, user: peer.user, reason } });
    this.#initial.peerGone(slot);
  }

  #applyRemote(from: SessionSlot, encodedDelta: Uint8Array): void {
    try {
      this.#replica.applyRemote(encodedDelta);
    } catch (error) {
      this.stats.deltasRefused++;
      this.#logger.warn({ err: error, from }, "remote delta refused by the replica");
      return;
    }
    this.stats.deltasApplied++;
    this.#out.push({ kind: "remoteDelta", from });
  }

  #deliver(entries: readonly ChatEntry[]): void {
    for (const entry of entries) this.#out.push({ kind: "chat", entry });
  }

  #send(to: SessionSlot, body: PeerMessageBody): void {
    this.#out.push({ kind: "send", to, body });
  }

  #flush(): CoreAction[] {
    const actions = this.#out;
    this.#out = [];
    return actions;
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
