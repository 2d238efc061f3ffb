// The public face of the peer-to-peer layer, for the client glue: the session
// engine, the ZeroMQ mesh it runs on, and the port the album CRDT implements.
// The pure cores (vector clocks, causal buffer, chat history) are exported for
// tools and tests. Adds no behaviour of its own.

export { SessionPeer } from "./session-peer.ts";
export type {
  PeerLeft,
  SessionPeerEvents,
  SessionPeerOptions,
  SessionPeerStats,
  SyncOutcome,
} from "./session-peer.ts";
export { PeerMesh } from "./peer-mesh.ts";
export type {
  IncomingEnvelope,
  MeshFaultInjector,
  PeerAddress,
  PeerMeshOptions,
  PeerMeshStats,
} from "./peer-mesh.ts";
export type { ReplicaPort } from "./replica-port.ts";
export type { PeerTimers } from "./peer-timers.ts";
export { systemTimers } from "./peer-timers.ts";
export type { ChatEntry } from "./chat-history.ts";
export { ChatHistory, DEFAULT_CHAT_HISTORY_CAPACITY } from "./chat-history.ts";
export { CausalBuffer } from "./causal-buffer.ts";
export type { CausalMessage, ReceiveOutcome } from "./causal-buffer.ts";
export { CausalChat, MAX_CHAT_TEXT_BYTES, checkChatText } from "./causal-chat.ts";
export type { SessionSlot, VectorClock } from "./vector-clock.ts";
export { PEER_PROTOCOL_VERSION } from "./peer-codec.ts";
