// The executor of the peer engine over ZeroMQ and real timers: it feeds the
// pure SessionCore (session-core.ts) with what the mesh receives, what the
// timers say and what the client asks, and carries out the actions it
// returns — sends through the PeerMesh, connections opened and closed,
// timers set, chat and peer events emitted. All the session logic (newcomer
// sync, repair, causal chat, who may say what) is in the core; this file
// only moves things between it and the world.
// Must never wedge: no send waits on a peer, every timer goes through
// PeerTimers and is cleared by stop(), and an action that fails is logged,
// never thrown into the core.
import { EventEmitter } from "node:events";
import { silentLogger, type Logger } from "../common/logger.ts";
import { AsyncQueue } from "./async-queue.ts";
import type { ChatEntry } from "./chat-history.ts";
import type { PeerAddress, PeerMesh } from "./peer-mesh.ts";
import { systemTimers, type PeerTimers } from "./peer-timers.ts";
import type { ReplicaPort } from "./replica-port.ts";
import {
  SessionCore,
  type CoreAction,
  type CoreTimer,
  type PeerLeft,
  type SessionCoreStats,
  type SyncOutcome,
} from "./session-core.ts";
import type { SessionSlot, VectorClock } from "./vector-clock.ts";

export type { PeerLeft, SyncOutcome } from "./session-core.ts";
export type SessionPeerStats = SessionCoreStats;

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
  /** The highest chat number our slot's earlier holders used (SessionCoreOptions). */
  predecessorChatSeq?: number;
  /** Sync requests a peer may send per second before the excess is dropped (default: four times what an honest peer sends, at least 20). */
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

export class SessionPeer extends EventEmitter<SessionPeerEvents> {
  readonly slot: SessionSlot;
  readonly user: string;
  readonly #core: SessionCore;
  readonly #mesh: PeerMesh;
  readonly #timers: PeerTimers;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #initialPeers: readonly PeerAddress[];
  readonly #byeGraceMs: number;
  readonly #chatQueues = new Set<AsyncQueue<ChatEntry>>();
  readonly #timerHandles = new Set<unknown>();
  readonly #revocations = new Set<Promise<unknown>>();
  #loop: Promise<void> | undefined;
  #resolveSynced!: (outcome: SyncOutcome) => void;
  readonly #synced: Promise<SyncOutcome>;

  constructor(options: SessionPeerOptions) {
    super();
    this.#mesh = options.mesh;
    this.slot = options.mesh.slot;
    this.user = options.user;
    this.#timers = options.timers ?? systemTimers;
    this.#now = options.now ?? Date.now;
    this.#logger = (options.logger ?? silentLogger()).child({
      component: "session-peer",
      slot: this.slot,
    });
    this.#core = new SessionCore({
      slot: this.slot,
      user: options.user,
      sessionToken: options.sessionToken,
      replica: options.replica,
      ...(options.pastEditors ? { pastEditors: options.pastEditors } : {}),
      ...pick(options, [
        "antiEntropyIntervalMs",
        "repairDelayMs",
        "initialSyncRetryMs",
        "initialSyncTimeoutMs",
        "chatHistoryCapacity",
        "maxHeldChatMessages",
        "syncRequestsPerSecond",
        "predecessorChatSeq",
      ]),
      monotonicNow: options.monotonicNow ?? (() => performance.now()),
      logger: this.#logger,
    });
    this.#initialPeers = options.initialPeers ?? [];
    this.#byeGraceMs = options.byeGraceMs ?? 20;
    this.#synced = new Promise((resolve) => (this.#resolveSynced = resolve));
  }

  get stats(): SessionPeerStats {
    return this.#core.stats;
  }

  /** "host:port" where the other editors reach us. */
  get address(): string {
    return this.#mesh.address;
  }

  /** What chat we have delivered (per slot). */
  get deliveredChat(): VectorClock {
    return this.#core.deliveredChat;
  }

  /** The retained chat history, oldest first. */
  chatHistory(): ChatEntry[] {
    return this.#core.chatHistory();
  }

  peers(): PeerAddress[] {
    return this.#core.peers();
  }

  /**
   * Starts the mesh (if not yet), connects to the initial peers, asks them for
   * the current replica state and chat history, and starts the repair timers.
   * Returns at once; whenSynced() tells when the initial sync is over.
   */
  async start(): Promise<void> {
    if (this.#core.running) return;
    await this.#mesh.start();
    this.#run(this.#core.start(this.#initialPeers));
    this.#loop = this.#consume();
  }

  /**
   * Leaves the session: says Bye to every peer, closes the mesh, clears every
   * timer, ends the chat iterables. Idempotent.
   */
  async stop(reason = "leaving"): Promise<void> {
    const actions = this.#core.stop(reason);
    for (const handle of this.#timerHandles) this.#timers.clearTimeout(handle);
    this.#timerHandles.clear();
    const byeSent = actions.some((action) => action.kind === "broadcast");
    this.#run(actions);
    // linger is 0, so give the Bye a moment to reach the sockets before closing.
    if (byeSent && this.#byeGraceMs > 0) await new Promise((r) => setTimeout(r, this.#byeGraceMs));
    await Promise.allSettled(this.#revocations);
    await this.#mesh.stop();
    await this.#loop;
    for (const queue of this.#chatQueues) queue.close();
    this.#chatQueues.clear();
  }

  /** Resolves when the newcomer sync is over (at once if we were alone). */
  whenSynced(): Promise<SyncOutcome> {
    return this.#synced;
  }

  /** Adds an editor the central server told us about (idempotent). */
  addPeer(peer: PeerAddress): void {
    this.#run(this.#core.addPeer(peer));
  }

  /** Drops an editor that left or crashed (the central server said so). Never blocks. */
  removePeer(slot: SessionSlot): void {
    this.#run(this.#core.removePeer(slot));
  }

  /**
   * Drops an editor whose membership was taken away: as removePeer, and the
   * connections it holds to us are cut at once. Never rejects.
   */
  async revokePeer(slot: SessionSlot): Promise<void> {
    this.#run(this.#core.removePeer(slot, true));
    await Promise.allSettled(this.#revocations);
  }

  /** Sends a local replica change to every peer; never waits. */
  broadcastDelta(encodedDelta: Uint8Array): void {
    this.#run(this.#core.localDelta(encodedDelta));
  }

  /**
   * Sends a chat message to every editor and delivers it locally. Waits for
   * the initial sync first (a reused slot must continue its predecessor's
   * numbering). Throws AlbumError(InvalidArgument) for an empty or oversized
   * text, FailedPrecondition when stopped.
   */
  async sendChat(text: string): Promise<ChatEntry> {
    await this.#synced;
    const { entry, actions } = this.#core.chat(text, this.#now());
    this.#run(actions);
    return entry;
  }

  /**
   * Delivered chat messages from now on (ours included), in causal order, for
   * one consumer; ends at stop(). Unbounded: read it, or use the "chat" event.
   */
  chatMessages(): AsyncIterable<ChatEntry> {
    const queue = new AsyncQueue<ChatEntry>();
    if (!this.#core.running && this.#loop !== undefined) queue.close();
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
    this.#run(this.#core.repairNow());
  }

  async #consume(): Promise<void> {
    for await (const { fromSlot, envelope } of this.#mesh.incoming()) {
      if (!this.#core.running) break;
      this.#run(this.#core.receive(fromSlot, envelope.body));
    }
  }

  /** Carries out the core's actions, in order. */
  #run(actions: readonly CoreAction[]): void {
    for (const action of actions) {
      try {
        this.#perform(action);
      } catch (error) {
        this.#logger.warn({ err: error, action: action.kind }, "peer action failed");
      }
    }
  }

  #perform(action: CoreAction): void {
    switch (action.kind) {
      case "send":
        if (this.#mesh.running) this.#mesh.sendTo(action.to, action.body);
        return;
      case "broadcast":
        if (this.#mesh.running) this.#mesh.broadcast(action.body);
        return;
      case "connect":
        this.#mesh.addPeer(action.peer);
        return;
      case "disconnect":
        if (!action.revoke) {
          this.#mesh.removePeer(action.slot);
          return;
        }
        this.#track(
          this.#mesh.revokePeer(action.slot).catch((error: unknown) => {
            this.#logger.error({ err: error }, "could not reopen the peer endpoint");
          }),
        );
        return;
      case "chat":
        for (const queue of this.#chatQueues) queue.offer(action.entry);
        this.emit("chat", action.entry);
        return;
      case "peerJoined":
        this.emit("peerJoined", action.peer);
        return;
      case "peerLeft":
        this.emit("peerLeft", action.left);
        return;
      case "remoteDelta":
        this.emit("remoteDelta", action.from);
        return;
      case "synced":
        this.#resolveSynced(action.outcome);
        if (action.outcome.timedOut && this.#core.running) {
          this.#logger.warn({ outcome: action.outcome }, "initial sync incomplete; following live");
        }
        this.emit("synced", action.outcome);
        return;
      case "schedule":
        this.#schedule(action.timer, action.delayMs);
        return;
    }
  }

  #schedule(timer: CoreTimer, delayMs: number): void {
    const handle = this.#timers.setTimeout(() => {
      this.#timerHandles.delete(handle);
      this.#run(this.#core.tick(timer));
    }, delayMs);
    this.#timerHandles.add(handle);
  }

  #track(promise: Promise<unknown>): void {
    this.#revocations.add(promise);
    void promise.finally(() => this.#revocations.delete(promise));
  }
}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<T> {
  const picked: Partial<T> = {};
  for (const key of keys) if (source[key] !== undefined) picked[key] = source[key];
  return picked;
}
