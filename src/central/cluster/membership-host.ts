// What the cluster coordinator shares with the membership protocols it hosts
// (JoinRunner, DecommissionProtocol): the current ring, the one lock under
// which the membership changes, the publishing of a committed ring and the
// "membership changed" signal. An interface only: the protocols never reach
// the coordinator's other state.
import type { Logger } from "pino";
import type { ConnectionPool } from "../../common/grpc/connection-pool.ts";
import type { Ring } from "../../ring/ring.ts";

export interface MembershipHost {
  readonly logger: Logger;
  /** Connections to the data servers. */
  readonly peers: ConnectionPool;
  readonly clusterToken: string;
  /** Aborted when the coordinator stops. */
  readonly stopping: AbortSignal;
  ring(): Ring;
  /** Runs `task` holding the membership lock (one state change at a time). */
  locked(task: () => Promise<void>): Promise<void>;
  /** Publishes a committed ring (after it was persisted). */
  commit(ring: Ring): void;
  /** Wakes everyone waiting for a change of the membership. */
  notify(): void;
  /** Resolves at the next notify(). */
  changed(): Promise<void>;
  /** Keeps a background task until it ends (its failure is logged). */
  track(task: Promise<void>): void;
}
