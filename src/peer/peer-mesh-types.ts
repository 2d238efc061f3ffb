// The vocabulary of the peer mesh (peer-mesh.ts): peer addresses, incoming
// envelopes, the fault-injection hook, options and counters. Declarations only.
import type { Logger } from "../common/logger.ts";
import type { MeshContext } from "./mesh-context.ts";
import type { PeerEnvelope } from "../gen/albumshare/peer/v1/peer_pb.ts";
import type { SessionKeys } from "./peer-keys.ts";
import type { SessionSlot } from "./vector-clock.ts";

/** Where to reach another editor of the session. */
export interface PeerAddress {
  readonly slot: SessionSlot;
  readonly user: string;
  /** "host:port" the peer advertised. */
  readonly address: string;
  /** The peer's CURVE public key for this session (32 bytes), as the central server vouched for it. */
  readonly publicKey: Uint8Array;
}

export interface IncomingEnvelope {
  /** Slot of the sender, proven by the key its connection authenticated with. */
  readonly fromSlot: SessionSlot;
  readonly envelope: PeerEnvelope;
}

/**
 * Test hook: decides the fate of each incoming envelope. Returns the delays
 * (ms) after which copies of it are handed on — undefined: at once, once;
 * []: dropped; [0, 30]: twice. Random delays reorder messages.
 */
export type MeshFaultInjector = (incoming: IncomingEnvelope) => readonly number[] | undefined;

export interface PeerMeshOptions {
  /** Our session slot. */
  slot: SessionSlot;
  /** Our key pair for this session (its public half is what the central server vouches for). */
  keys: SessionKeys;
  /** The session's 128-bit token: the ZAP domain and the salt of the pair routing ids. */
  sessionToken: Uint8Array;
  /** Interface to bind (default 127.0.0.1). */
  bindHost?: string;
  /** Port to bind; 0 (default) picks an ephemeral port. */
  bindPort?: number;
  /** Host others should use to reach us (default: bindHost; required for a wildcard bind). */
  advertisedHost?: string;
  /** Port others should use (default: the bound port), e.g. behind port forwarding. */
  advertisedPort?: number;
  /** Messages ZeroMQ queues per outgoing peer (default 1000). */
  sendHighWaterMark?: number;
  /** Messages waiting in our outbox per peer beyond that, before new ones are dropped (default 10,000). */
  outboxLimit?: number;
  /** How long a send may wait on a peer that accepts nothing before its backlog is dropped (default 5000 ms). */
  sendTimeoutMs?: number;
  /** Messages queued by ZeroMQ on the incoming side (default 1000). */
  receiveHighWaterMark?: number;
  /** Envelopes held per sending peer for the consumer; beyond, that peer's are dropped (default 1000). */
  incomingQueueLimit?: number;
  /** Bytes held per sending peer for the consumer (default 16 MiB). */
  incomingBytesLimit?: number;
  /** Largest message accepted; ZeroMQ disconnects a peer sending more, before reading it (default 8 MiB). */
  maxMessageBytes?: number;
  /** ZMTP heartbeat period, to notice dead TCP connections (default 1000 ms; 0 disables). */
  heartbeatIntervalMs?: number;
  /** Silence after a heartbeat before the connection is dropped (default 5000 ms). */
  heartbeatTimeoutMs?: number;
  faults?: MeshFaultInjector;
  /** The ZeroMQ context and ZAP handler to share (default: the process-wide one). */
  context?: MeshContext;
  /**
   * "curve" (default): encrypted, only vouched keys admitted. "none" exists
   * only so the benchmark can measure what security costs: no encryption, no
   * admission (the pair routing ids still name the senders, in the clear).
   * The client never sets it.
   */
  security?: "curve" | "none";
  logger?: Logger;
}

export interface PeerMeshStats {
  /** Messages queued for sending, per destination. */
  sent: number;
  /** Messages discarded: outbox full, peer stuck past the send timeout, or peer removed. */
  discarded: number;
  /** sendTo() for a slot that is not a peer. */
  droppedNoPeer: number;
  received: number;
  /** Incoming messages refused (undecodable, over their kind's size limit, or sender slot disagrees). */
  malformed: number;
  /** Incoming messages on a connection no admitted editor's key opened (dropped unread). */
  unauthenticated: number;
  /** Incoming messages dropped because their sender's budget was used up. */
  overBudget: number;
  /** Incoming messages dropped by the fault injector. */
  droppedByFaults: number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
