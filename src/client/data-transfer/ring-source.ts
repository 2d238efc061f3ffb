// Where the client's data transfers learn the ring: the newest ring the
// client knows, and a way to ask for a newer one after a redirect. The client
// core implements it over the central connection (GetRing + RingChanged
// push); tests and tools may use ClusterRingSource (the coordinator's gRPC).

import type { Ring } from "../../ring/ring.ts";

export interface RingSource {
  /** The newest ring known, without I/O (may be empty or stale). */
  current(): Ring;
  /** Asks for the newest ring and returns it. */
  refresh(): Promise<Ring>;
}
