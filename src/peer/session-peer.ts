// The peer engine of one editor in one editing session: joins the ZeroMQ mesh,
// spreads local CRDT deltas and applies remote ones, delivers chat in causal
// order exactly once, brings a newcomer up to date from the editors already
// there, and repairs losses by anti-entropy. It knows the replica only through
// ReplicaPort (opaque bytes). Must never wedge: a lost message is repaired by
// a targeted or periodic sync, a vanished peer is skipped, and no send ever
// waits on a peer. Every timer goes through PeerTimers and is cleared by stop().
// Must never trust what a peer writes about who it is: the sender's slot comes
// from the mesh (proven by its key), its name from the central server (the
// SlotRoster), and it never connects to anyone the central server did not
// name. Replies it did not ask for, and requests beyond a peer's budget, are
// dropped unanswered.

import { EventEmitter } from "node:events";
import { create } from "@bufbuild/protobuf";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { silentLogger, type Logger } from "../common/logger.ts";
import {
  ByeSchema,
  CrdtDeltaSchema,
  CrdtSyncReplySchema,
  CrdtSyncRequestSchema,
  HelloSchema,
  type Bye,
  type ChatMessage as ChatMessageWire,
  type ChatSyncReply as ChatSyncReplyWire,
  type ChatSyncRequest as ChatSyncRequestWire,
  type CrdtDelta,
  type CrdtSyncReply,
  type CrdtSyncRequest,
  type Hello,
} from "../gen/albumshare/peer/v1/peer_pb.ts";
import { AsyncQueue } from "./async-queue.ts";
import { CausalChat, MAX_SENDER_NAME_BYTES } from "./causal-chat.ts";
import type { ChatEntry } from "./chat-history.ts";
import { DeltaGapTracker } from "./delta-gap-tracker.ts";
import {
  chatEntryFromWire,
  chatEntryToWire,
  chatSyncReplyFromWire,
  chatSyncReplyToWire,
  chatSyncRequestFromWire,
  chatSyncRequestToWire,
  PEER_PROTOCOL_VERSION,
  type PeerMessageBody,
  type PeerMessageCase,
} from "./peer-codec.ts";
import type { PeerAddress, PeerMesh } from "./peer-mesh.ts";
import { systemTimers, type PeerTimers } from "./peer-timers.ts";
import { SlotRoster } from "./slot-roster.ts";
import type { ReplicaPort } from "./replica-port.ts";
import type { SessionSlot, VectorClock } from "./vector-clock.ts";

export interface SessionPeerOptions {
  /** The mesh to use, created with our slot; started by start() if need be, stopped by stop(). */
  mesh: PeerMesh;
  /** Our user name: the sender name of our chat messages. */
  user: string;
  /** The session's 128-bit token (from the central server); Hellos of another session are ignored. */
  sessionToken: Uint8Array;
  replica: ReplicaPort;
  /** The editors already in the session when we join (from the central server). */
  initialPeers?: readonly PeerAddress[];
  /** Who held slots of the session before and left (from the central server): names relayed chat may carry. */
  pastEditors?: readonly { slot: SessionSlot; user: string }[];
  /** Sync requests a peer may send per second before the excess is dropped (default 20). */
  syncRequestsPerSecond?: number;
  /** Period of the anti-entropy round with one peer (default 1000 ms). */
  antiEntropyIntervalMs?: number;
  /** How long a noticed gap may last before a targeted repair (default 200 ms). */
  repairDelayMs?: number;
  /** A newcomer asks again (the next peer) when unanswered this long (default 1000 ms). */
  initialSyncRetryMs?: number;
  /** A newcomer stops waiting for its initial sync after this long (default 5000 ms). */
  initialSyncTimeoutMs?: number;
  /** Chat messages retained for newcomers and repairs (default 200). */
  chatHistoryCapacity?: number;
  /** Chat messages held back at most (default 10,000). */
  maxHeldChatMessages?: number;
  /** How long stop() lets the Bye leave before closing the sockets (default 20 ms). */
  byeGraceMs?: number;
  timers?: PeerTimers;
  /** Monotonic clock for the per-peer budgets (default performance.now). */
  monotonicNow?: () => number;
  /** Wall clock for chat time stamps (default Date.now). */
  now?: () => number;
  logger?: Logger;
}

/** How a newcomer's initial sync ended. */
export interface SyncOutcome {
  /** The peer whose replica state we started from; undefined when none answered (or none was there). */
  replicaFrom: SessionSlot | undefined;
  /** The peers that handed us their chat history and clock. */
  chatFrom: SessionSlot[];
  /** True when we stopped waiting (timeout, or stop()) before every peer answered. */
  timedOut: boolean;
}

export interface PeerLeft {
  slot: SessionSlot;
  user: string;
  /** "bye": the peer said so; "removed": removePeer() (e.g. the central server said so). */
  reason: "bye" | "removed";
}

export interface SessionPeerEvents {
  /** A chat message was delivered (ours too), in causal order, exactly once. */
  chat: [ChatEntry];
  peerJoined: [PeerAddress];
  peerLeft: [PeerLeft];
  /** A remote delta or sync reply was applied to the replica. */
  remoteDelta: [SessionSlot];
  /** The initial sync is over (see whenSynced). */
  synced: [SyncOutcome];
}

export interface SessionPeerStats {
  deltasSent: number;
  deltasApplied: number;
  /** Deltas or sync replies the replica refused (malformed). */
  deltasRefused: number;
  crdtRepairRequests: number;
  chatRepairRequests: number;
  antiEntropyRounds: number;
  /** Chat messages refused (malformed, spoofed, or no room to hold them). */
  chatRefused: number;
  /** Hellos ignored (other protocol version or session). */
  hellosIgnored: number;
  /** Sync replies nobody asked for, dropped unread. */
  unsolicitedReplies: number;
  /** Sync requests beyond the sender's budget, dropped unanswered. */
  requestsOverBudget: number;
}

type Handlers = {
  [K in PeerMessageCase]: (
    from: SessionSlot,
    value: Extract<PeerMessageBody, { case: K }>["value"],
  ) => void;
};

interface InitialSync {
  /** Peers whose chat history we still wait for. */
  chatPending: Set<SessionSlot>;
  chatFrom: SessionSlot[];
  replicaFrom: SessionSlot | undefined;
  /** Peers asked for the replica so far, in order. */
  replicaAsked: SessionSlot[];
  done: boolean;
}

const EMPTY_BYTES = new Uint8Array(0);
/** Repair periods between two targeted chat repair requests to the same peer. */
const CHAT_REPAIR_COOLDOWN_PERIODS = 3;

export class SessionPeer extends EventEmitter<SessionPeerEvents> {
  readonly slot: SessionSlot;
  readonly user: string;
  readonly stats: SessionPeerStats = {
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
  readonly #mesh: PeerMesh;
  readonly #replica: ReplicaPort;
  readonly #token: Uint8Array;
  readonly #roster = new SlotRoster();
  readonly #budgets: RequestBudgets;
  /** Sync requests we sent and whose replies we still accept, per peer and kind. */
  readonly #asked = { crdt: new Map<SessionSlot, number>(), chat: new Map<SessionSlot, number>() };
  readonly #timers: PeerTimers;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #chat: CausalChat;
  readonly #gaps = new DeltaGapTracker();
  readonly #chatQueues = new Set<AsyncQueue<ChatEntry>>();
  readonly #handlers: Handlers;
  readonly #intervals: {
    antiEntropy: number;
    repair: number;
    initialRetry: number;
    initialTimeout: number;
  };
  readonly #initialPeers: readonly PeerAddress[];
  readonly #byeGraceMs: number;
  #state: "new" | "running" | "stopped" = "new";
  #deltaSeq = 0;
  #antiEntropyCursor = 0;
  #previousHeldKeys = new Set<string>();
  #departedGapRounds = 0;
  #repairPeriod = 0;
  readonly #chatRepairAsked = new Map<SessionSlot, number>();
  readonly #isPresent = (slot: SessionSlot): boolean =>
    slot === this.slot || this.#mesh.hasPeer(slot);
  #loop: Promise<void> | undefined;
  #timerHandles = new Set<unknown>();
  #initial: InitialSync = {
    chatPending: new Set(),
    chatFrom: [],
    replicaFrom: undefined,
    replicaAsked: [],
    done: false,
  };
  #resolveSynced!: (outcome: SyncOutcome) => void;
  readonly #synced: Promise<SyncOutcome>;

  constructor(options: SessionPeerOptions) {
    super();
    if (options.user.length === 0 || Buffer.byteLength(options.user) > MAX_SENDER_NAME_BYTES) {
      throw new AlbumError(ErrorCode.InvalidArgument, "user name is empty or too long");
    }
    this.#mesh = options.mesh;
    this.slot = options.mesh.slot;
    this.user = options.user;
    this.#replica = options.replica;
    this.#token = options.sessionToken;
    this.#roster.hold(this.slot, options.user);
    for (const past of options.pastEditors ?? []) this.#roster.held(past.slot, past.user);
    this.#budgets = new RequestBudgets(
      options.syncRequestsPerSecond ?? 20,
      options.monotonicNow ?? (() => performance.now()),
    );
    this.#timers = options.timers ?? systemTimers;
    this.#now = options.now ?? Date.now;
    this.#logger = (options.logger ?? silentLogger()).child({
      component: "session-peer",
      slot: this.slot,
    });
    this.#chat = new CausalChat({
      slot: this.slot,
      senderName: options.user,
      historyCapacity: options.chatHistoryCapacity ?? 200,
      maxHeld: options.maxHeldChatMessages ?? 10_000,
    });
    this.#intervals = {
      antiEntropy: options.antiEntropyIntervalMs ?? 1000,
      repair: options.repairDelayMs ?? 200,
      initialRetry: options.initialSyncRetryMs ?? 1000,
      initialTimeout: options.initialSyncTimeoutMs ?? 5000,
    };
    this.#initialPeers = options.initialPeers ?? [];
    this.#byeGraceMs = options.byeGraceMs ?? 20;
    this.#synced = new Promise((resolve) => (this.#resolveSynced = resolve));
    this.#handlers = {
      hello: (from, value) => this.#onHello(from, value),
      crdtDelta: (from, value) => this.#onCrdtDelta(from, value),
      crdtSyncRequest: (from, value) => this.#onCrdtSyncRequest(from, value),
      crdtSyncReply: (from, value) => this.#onCrdtSyncReply(from, value),
      chatMessage: (from, value) => this.#onChatMessage(from, value),
      chatSyncRequest: (from, value) => this.#onChatSyncRequest(from, value),
      chatSyncReply: (from, value) => this.#onChatSyncReply(from, value),
      bye: (from, value) => this.#onBye(from, value),
    };
  }

  /** "host:port" where the other editors reach us. */
  get address(): string {
    return this.#mesh.address;
  }

  /** What chat we have delivered (per slot). */
  get deliveredChat(): VectorClock {
    return this.#chat.delivered;
  }

  /** The retained chat history, oldest first. */
  chatHistory(): ChatEntry[] {
    return this.#chat.history();
  }

  peers(): PeerAddress[] {
    return this.#mesh.peers();
  }

  /**
   * Starts the mesh (if not yet), connects to the initial peers, asks them for
   * the current replica state and chat history, and starts the repair timers.
   * Returns at once; whenSynced() tells when the initial sync is over.
   */
  async start(): Promise<void> {
    if (this.#state !== "new") {
      throw new AlbumError(ErrorCode.FailedPrecondition, "a session peer can be started once");
    }
    await this.#mesh.start();
    this.#state = "running";
    this.#loop = this.#consume();
    for (const peer of this.#initialPeers) this.#connect(peer);
    this.#beginInitialSync();
    this.#every(this.#intervals.repair, () => this.#repairRound());
    this.#every(this.#intervals.antiEntropy, () => this.#antiEntropyRound());
  }

  /**
   * Leaves the session: says Bye to every peer, closes the mesh, clears every
   * timer, ends the chat iterables. Idempotent.
   */
  async stop(reason = "leaving"): Promise<void> {
    if (this.#state === "stopped") return;
    const wasRunning = this.#state === "running";
    this.#state = "stopped";
    for (const handle of this.#timerHandles) this.#timers.clearTimeout(handle);
    this.#timerHandles.clear();
    if (wasRunning && this.#mesh.peers().length > 0) {
      this.#mesh.broadcast({ case: "bye", value: create(ByeSchema, { reason }) });
      // linger is 0, so give the Bye a moment to reach the sockets before closing.
      if (this.#byeGraceMs > 0) await new Promise((r) => setTimeout(r, this.#byeGraceMs));
    }
    await this.#mesh.stop();
    await this.#loop;
    this.#finishInitialSync(true);
    for (const queue of this.#chatQueues) queue.close();
    this.#chatQueues.clear();
  }

  /** Resolves when the newcomer sync is over (at once if we were alone). */
  whenSynced(): Promise<SyncOutcome> {
    return this.#synced;
  }

  /** Adds an editor the central server told us about (idempotent). */
  addPeer(peer: PeerAddress): void {
    this.#requireRunning();
    this.#connect(peer);
  }

  /** Drops an editor that left or crashed (the central server said so). Never blocks. */
  removePeer(slot: SessionSlot): void {
    const peer = this.#mesh.peer(slot);
    if (!peer || !this.#mesh.removePeer(slot)) return;
    this.#peerGone(peer, "removed");
  }

  /**
   * Drops an editor whose membership was taken away: as removePeer, and the
   * connections it holds to us are cut at once. Never rejects.
   */
  async revokePeer(slot: SessionSlot): Promise<void> {
    const peer = this.#mesh.peer(slot);
    if (!peer) return;
    const revoking = this.#mesh.revokePeer(slot);
    this.#peerGone(peer, "removed");
    try {
      await revoking;
    } catch (error) {
      this.#logger.error({ err: error, slot }, "could not reopen the peer endpoint");
    }
  }

  /** Sends a local replica change to every peer; never waits. */
  broadcastDelta(encodedDelta: Uint8Array): void {
    this.#requireRunning();
    this.#deltaSeq++;
    this.stats.deltasSent++;
    this.#mesh.broadcast({
      case: "crdtDelta",
      value: create(CrdtDeltaSchema, { seq: this.#deltaSeq, delta: encodedDelta }),
    });
  }

  /**
   * Sends a chat message to every editor and delivers it locally. Waits for
   * the initial sync first (a reused slot must continue its predecessor's
   * numbering). Throws AlbumError(InvalidArgument) for an empty or oversized
   * text, FailedPrecondition when stopped.
   */
  async sendChat(text: string): Promise<ChatEntry> {
    await this.#synced;
    this.#requireRunning();
    const entry = this.#chat.compose(text, this.#now());
    this.#mesh.broadcast({ case: "chatMessage", value: chatEntryToWire(entry) });
    this.#emitChat([entry]);
    return entry;
  }

  /**
   * Delivered chat messages from now on (ours included), in causal order, for
   * one consumer; ends at stop(). Unbounded: read it, or use the "chat" event.
   */
  chatMessages(): AsyncIterable<ChatEntry> {
    const queue = new AsyncQueue<ChatEntry>();
    if (this.#state === "stopped") queue.close();
    else this.#chatQueues.add(queue);
    const queues = this.#chatQueues;
    return {
      async *[Symbol.asyncIterator]() {
        try {
          yield* queue;
        } finally {
          queues.delete(queue);
        }
      },
    };
  }

  /** Runs an anti-entropy round with every peer now (e.g. after a reconnection). */
  repairNow(): void {
    this.#requireRunning();
    for (const peer of this.#mesh.peers()) this.#askForRepair(peer.slot, true, true);
  }

  // --- incoming ---------------------------------------------------------------------

  async #consume(): Promise<void> {
    for await (const { fromSlot, envelope } of this.#mesh.incoming()) {
      if (this.#state !== "running") break;
      const body = envelope.body;
      if (body.case === undefined) continue;
      try {
        (this.#handlers[body.case] as (from: SessionSlot, value: unknown) => void)(
          fromSlot,
          body.value,
        );
      } catch (error) {
        this.#logger.warn({ err: error, fromSlot, kind: body.case }, "peer message not handled");
      }
    }
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
        "hello from another protocol version or session ignored",
      );
      return;
    }
    // Only the central server names peers: a Hello never makes us connect anywhere.
    this.#gaps.expect(from, hello.crdtDeltasSent);
  }

  #onCrdtDelta(from: SessionSlot, delta: CrdtDelta): void {
    this.#gaps.record(from, delta.seq);
    this.#applyRemote(from, delta.delta);
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
    this.#mesh.sendTo(from, {
      case: "crdtSyncReply",
      value: create(CrdtSyncReplySchema, {
        delta: missing ?? EMPTY_BYTES,
        initial: request.initial,
      }),
    });
  }

  #onCrdtSyncReply(from: SessionSlot, reply: CrdtSyncReply): void {
    if (!takeAsked(this.#asked.crdt, from)) {
      this.stats.unsolicitedReplies++;
      return;
    }
    if (reply.delta.byteLength > 0) this.#applyRemote(from, reply.delta);
    if (!reply.initial || this.#initial.done || this.#initial.replicaFrom !== undefined) return;
    this.#initial.replicaFrom = from;
    // Started from one peer's state; the others send only what it lacked.
    for (const peer of this.#mesh.peers()) {
      if (peer.slot !== from) this.#askForRepair(peer.slot, true, false);
    }
    this.#checkInitialSync();
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
    this.#emitChat(result.delivered);
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
    if (reply) this.#mesh.sendTo(from, chatSyncReplyToWire(reply));
  }

  #onChatSyncReply(from: SessionSlot, wire: ChatSyncReplyWire): void {
    if (!takeAsked(this.#asked.chat, from)) {
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
    this.#emitChat(this.#chat.receiveSyncReply(reply, from, this.#isPresent));
    if (reply.initial && this.#initial.chatPending.delete(from)) {
      this.#initial.chatFrom.push(from);
      this.#checkInitialSync();
    }
  }

  #onBye(from: SessionSlot, _bye: Bye): void {
    const peer = this.#mesh.peer(from);
    if (!peer || !this.#mesh.removePeer(from)) return;
    this.#peerGone(peer, "bye");
  }

  // --- newcomer sync ------------------------------------------------------------------

  #beginInitialSync(): void {
    const peers = this.#mesh.peers();
    if (peers.length === 0) {
      this.#finishInitialSync(false);
      return;
    }
    for (const peer of peers) {
      this.#initial.chatPending.add(peer.slot);
      this.#requestChat(peer.slot, true);
    }
    this.#askNextPeerForReplica();
    this.#every(this.#intervals.initialRetry, () => this.#retryInitialSync());
    this.#after(this.#intervals.initialTimeout, () => this.#finishInitialSync(true));
  }

  /** Asks one peer (the next not yet asked, else the next in turn) for the whole replica state. */
  #askNextPeerForReplica(): void {
    const peers = this.#mesh.peers().map((peer) => peer.slot);
    if (peers.length === 0) return;
    const asked = this.#initial.replicaAsked;
    const fresh = peers.find((slot) => !asked.includes(slot));
    const target = fresh ?? peers[asked.length % peers.length]!;
    asked.push(target);
    this.#requestCrdt(target, true);
  }

  /** Returns false once the initial sync is over (no more retries). */
  #retryInitialSync(): boolean {
    if (this.#initial.done) return false;
    for (const slot of this.#initial.chatPending) this.#requestChat(slot, true);
    if (this.#initial.replicaFrom === undefined) this.#askNextPeerForReplica();
    return true;
  }

  #checkInitialSync(): void {
    if (this.#initial.done) return;
    for (const slot of this.#initial.chatPending) {
      if (!this.#mesh.hasPeer(slot)) this.#initial.chatPending.delete(slot);
    }
    const connected = this.#mesh.peers().length;
    const replicaDone = this.#initial.replicaFrom !== undefined || connected === 0;
    if (replicaDone && this.#initial.chatPending.size === 0) this.#finishInitialSync(false);
  }

  #finishInitialSync(timedOut: boolean): void {
    if (this.#initial.done) return;
    this.#initial.done = true;
    const outcome: SyncOutcome = {
      replicaFrom: this.#initial.replicaFrom,
      chatFrom: [...this.#initial.chatFrom],
      timedOut,
    };
    this.#resolveSynced(outcome);
    if (timedOut && this.#state === "running") {
      this.#logger.warn({ outcome }, "initial sync incomplete; following live");
    }
    this.emit("synced", outcome);
  }

  // --- repair -------------------------------------------------------------------------

  /** Targeted repair: asks the peers behind lasting gaps for what we lack. */
  #repairRound(): void {
    this.#repairPeriod++;
    for (const sender of this.#gaps.closePeriod()) {
      this.#askForRepair(this.#mesh.hasPeer(sender) ? sender : this.#nextPeer(), true, false);
    }
    const heldNow = new Set(this.#chat.heldKeys());
    const lasting = [...heldNow].some((key) => this.#previousHeldKeys.has(key));
    this.#previousHeldKeys = heldNow;
    if (!lasting) {
      this.#departedGapRounds = 0;
      return;
    }
    // Ask the authors of what held messages wait for (they log their own
    // messages); for an author who left, ask the others in turn.
    const asked = new Set<SessionSlot>();
    let waitsOnDeparted = false;
    for (const author of this.#chat.slotsWaitedFor()) {
      const present = this.#isPresent(author);
      waitsOnDeparted ||= !present;
      const target = present ? author : this.#nextPeer();
      if (target === undefined || target === this.slot || asked.has(target)) continue;
      asked.add(target);
      // Not again while an answer (up to a thousand messages) may be on its way.
      const last = this.#chatRepairAsked.get(target);
      if (last !== undefined && this.#repairPeriod - last < CHAT_REPAIR_COOLDOWN_PERIODS) continue;
      this.#chatRepairAsked.set(target, this.#repairPeriod);
      this.#askForRepair(target, false, true);
    }
    // Once every peer had its turn, what a departed author sent is nowhere.
    this.#departedGapRounds = waitsOnDeparted ? this.#departedGapRounds + 1 : 0;
    if (this.#departedGapRounds > this.#mesh.peers().length + 2) {
      this.#departedGapRounds = 0;
      this.#emitChat(this.#chat.abandonDeparted(this.#isPresent));
    }
  }

  /** Periodic anti-entropy: one peer per round, in turn, for both replica and chat. */
  #antiEntropyRound(): void {
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
    const sent = this.#mesh.sendTo(target, {
      case: "crdtSyncRequest",
      value: create(CrdtSyncRequestSchema, { context: this.#replica.encodedContext(), initial }),
    });
    if (sent) addAsked(this.#asked.crdt, target);
  }

  #requestChat(target: SessionSlot, initial: boolean): void {
    const sent = this.#mesh.sendTo(target, chatSyncRequestToWire(this.#chat.syncRequest(initial)));
    if (sent) addAsked(this.#asked.chat, target);
  }

  #nextPeer(): SessionSlot | undefined {
    const slots = this.#mesh
      .peers()
      .map((peer) => peer.slot)
      .sort((a, b) => a - b);
    if (slots.length === 0) return undefined;
    return slots[this.#antiEntropyCursor++ % slots.length];
  }

  // --- helpers ------------------------------------------------------------------------

  #connect(peer: PeerAddress): void {
    const previous = this.#mesh.peer(peer.slot);
    const reconnected = this.#mesh.addPeer(peer);
    this.#roster.hold(peer.slot, peer.user);
    if (!reconnected && previous?.user === peer.user) return;
    // A new holder of the slot (or a new address) numbers its deltas afresh.
    if (reconnected) {
      this.#gaps.forget(peer.slot);
      this.#asked.crdt.delete(peer.slot);
      this.#asked.chat.delete(peer.slot);
    }
    this.#mesh.sendTo(peer.slot, {
      case: "hello",
      value: create(HelloSchema, {
        protocolVersion: PEER_PROTOCOL_VERSION,
        slot: this.slot,
        sessionToken: this.#token,
        crdtDeltasSent: this.#deltaSeq,
      }),
    });
    this.emit("peerJoined", peer);
  }

  #peerGone(peer: PeerAddress, reason: PeerLeft["reason"]): void {
    this.#gaps.forget(peer.slot);
    this.#roster.release(peer.slot);
    this.#asked.crdt.delete(peer.slot);
    this.#asked.chat.delete(peer.slot);
    this.emit("peerLeft", { slot: peer.slot, user: peer.user, reason });
    if (this.#initial.done) return;
    if (
      this.#initial.replicaFrom === undefined &&
      this.#initial.replicaAsked.at(-1) === peer.slot
    ) {
      this.#askNextPeerForReplica();
    }
    this.#checkInitialSync();
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
    this.emit("remoteDelta", from);
  }

  #emitChat(delivered: readonly ChatEntry[]): void {
    for (const entry of delivered) {
      for (const queue of this.#chatQueues) queue.offer(entry);
      this.emit("chat", entry);
    }
  }

  /** Runs `task` every `periodMs` until stop(), or until it returns false. */
  #every(periodMs: number, task: () => boolean | void): void {
    const tick = (): void => {
      let again = true;
      try {
        again = task() !== false;
      } catch (error) {
        this.#logger.warn({ err: error }, "periodic peer task failed");
      }
      if (again) this.#after(periodMs, tick);
    };
    this.#after(periodMs, tick);
  }

  #after(delayMs: number, task: () => void): void {
    const handle = this.#timers.setTimeout(() => {
      this.#timerHandles.delete(handle);
      if (this.#state === "running") task();
    }, delayMs);
    this.#timerHandles.add(handle);
  }

  #requireRunning(): void {
    if (this.#state !== "running") {
      throw new AlbumError(ErrorCode.FailedPrecondition, "the editing session is not active");
    }
  }
}

/** Replies we accept from one peer: one per request sent, capped so a lost reply cannot pile up credit. */
const MAX_OUTSTANDING_REQUESTS = 8;

function addAsked(asked: Map<SessionSlot, number>, slot: SessionSlot): void {
  asked.set(slot, Math.min((asked.get(slot) ?? 0) + 1, MAX_OUTSTANDING_REQUESTS));
}

function takeAsked(asked: Map<SessionSlot, number>, slot: SessionSlot): boolean {
  const count = asked.get(slot) ?? 0;
  if (count === 0) return false;
  if (count === 1) asked.delete(slot);
  else asked.set(slot, count - 1);
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a).equals(Buffer.from(b));
}

/**
 * Per-peer token buckets for the requests that make us work (a sync request
 * makes us encode what the peer lacks): a peer asking faster than the rate
 * gets no answer, so it cannot keep our event loop busy.
 */
class RequestBudgets {
  readonly #rate: number;
  readonly #now: () => number;
  readonly #buckets = new Map<SessionSlot, { tokens: number; at: number }>();

  constructor(perSecond: number, now: () => number) {
    this.#rate = perSecond;
    this.#now = now;
  }

  take(slot: SessionSlot): boolean {
    const now = this.#now();
    const bucket = this.#buckets.get(slot) ?? { tokens: this.#rate, at: now };
    bucket.tokens = Math.min(this.#rate, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate);
    bucket.at = now;
    this.#buckets.set(slot, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
