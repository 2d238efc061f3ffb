// The vocabulary of the session core (session-core.ts): the actions it
// returns, its timers, its options and counters. Declarations only.
import type { Logger } from "../common/logger.ts";
import type { ChatEntry } from "./chat-history.ts";
import type { SyncOutcome } from "./newcomer-sync.ts";
import type { PeerMessageBody } from "./peer-codec.ts";
import type { PeerAddress } from "./peer-mesh.ts";
import type { ReplicaPort } from "./replica-port.ts";
import type { SessionSlot } from "./vector-clock.ts";

/** The core's timers; each fires once per schedule action. */
export type CoreTimer = "repair" | "antiEntropy" | "initialRetry" | "initialTimeout";

export interface PeerLeft {
  slot: SessionSlot;
  user: string;
  /** "bye": the peer said so; "removed": the central server said so. */
  reason: "bye" | "removed";
}

export type CoreAction =
  | { kind: "send"; to: SessionSlot; body: PeerMessageBody }
  | { kind: "broadcast"; body: PeerMessageBody }
  /** Open (or re-open, for a new address or key) the connection to a peer. */
  | { kind: "connect"; peer: PeerAddress }
  /** Close the connection to a peer; `revoke`: also cut its connections to us. */
  | { kind: "disconnect"; slot: SessionSlot; revoke: boolean }
  | { kind: "chat"; entry: ChatEntry }
  | { kind: "peerJoined"; peer: PeerAddress }
  | { kind: "peerLeft"; left: PeerLeft }
  | { kind: "remoteDelta"; from: SessionSlot }
  | { kind: "synced"; outcome: SyncOutcome }
  | { kind: "schedule"; timer: CoreTimer; delayMs: number };

export interface SessionCoreOptions {
  slot: SessionSlot;
  /** Our user name: the sender name of our chat messages. */
  user: string;
  /** The session's 128-bit token; Hellos of another session are ignored. */
  sessionToken: Uint8Array;
  replica: ReplicaPort;
  /** Who held slots of the session before and left (names relayed chat may carry). */
  pastEditors?: readonly { slot: SessionSlot; user: string }[];
  /**
   * The highest chat number our slot's earlier holders used, as the central
   * server recorded it (0 for a fresh slot): our chat is numbered above it
   * once the initial sync is over, whether or not a peer answered.
   */
  predecessorChatSeq?: number;
  antiEntropyIntervalMs?: number;
  repairDelayMs?: number;
  initialSyncRetryMs?: number;
  initialSyncTimeoutMs?: number;
  chatHistoryCapacity?: number;
  maxHeldChatMessages?: number;
  syncRequestsPerSecond?: number;
  /** Monotonic milliseconds, for the request budgets (the simulation passes its clock). */
  monotonicNow: () => number;
  logger?: Logger;
}

export interface SessionCoreStats {
  deltasSent: number;
  deltasApplied: number;
  /** Deltas or sync replies the replica refused (malformed or forged). */
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

export function emptySessionCoreStats(): SessionCoreStats {
  return {
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
}
