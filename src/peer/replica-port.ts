// What the peer layer needs from the album replica, and nothing more: the
// session engine moves opaque encoded deltas and causal contexts between
// editors without knowing the CRDT behind them. The CRDT module implements
// this port; tests use a trivial stand-in. Implementations must be
// idempotent under duplicated and reordered input (a delta-state CRDT is).

export interface ReplicaPort {
  /** Merges a delta (or a full state) received from a peer. Throws on a malformed delta. */
  applyRemote(encodedDelta: Uint8Array): void;
  /** Our causal context, encoded: what we have seen, for anti-entropy. */
  encodedContext(): Uint8Array;
  /**
   * The delta of everything a replica with this causal context lacks, or
   * undefined when it lacks nothing. Throws on a malformed context.
   */
  encodedMissingFor(encodedRemoteContext: Uint8Array): Uint8Array | undefined;
}
