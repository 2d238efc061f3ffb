// How the central server's client protocol learns the data-server ring: the
// cluster coordinator implements this; without data servers it is a fixed
// empty ring. Kept as an interface so the TCP side does not depend on gRPC.
import { create } from "@bufbuild/protobuf";
import { RingStateSchema, type RingState } from "../gen/albumshare/ring/v1/ring_pb.ts";

export interface RingProvider {
  currentRing(): RingState;
  /** Calls `listener` with every new ring version; returns an unsubscribe function. */
  onRingChange(listener: (ring: RingState) => void): () => void;
}

export function emptyRingProvider(): RingProvider {
  const empty = create(RingStateSchema, { version: 0n, nodes: [] });
  return { currentRing: () => empty, onRingChange: () => () => {} };
}
