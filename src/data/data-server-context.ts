// What every data-server RPC handler may use: the store, the ring view, the
// uploads in flight, the on-demand pull of keys still being handed over, and
// the cluster token. Handlers receive it; nothing here is global.

import type { Logger } from "pino";
import type { InFlightUploads } from "./in-flight-uploads.ts";
import type { IncomingTransfers } from "./join/incoming-transfers.ts";
import type { PullThrough } from "./join/pull-through.ts";
import type { RangeCopier } from "./join/range-copier.ts";
import type { RingView } from "./ring-view.ts";
import type { ContentStore } from "./storage/content-store.ts";
import type { TransferSlots } from "./transfer-slots.ts";

export interface DataServerContext {
  readonly serverId: string;
  readonly store: ContentStore;
  readonly ringView: RingView;
  readonly inFlight: InFlightUploads;
  /** Bounds and times out the transfers that hold a file. */
  readonly transfers: TransferSlots;
  readonly pullThrough: PullThrough;
  /** Ranges being handed over to this server, and who holds them. */
  readonly incoming: IncomingTransfers;
  /** Copies ranges from their holder (joins, and decommissions of others). */
  readonly copier: RangeCopier;
  readonly clusterToken: string;
  readonly logger: Logger;
  /**
   * Resolves once the server knows whether keys are still being handed over
   * to it (its join is done or its plan is known): before that, a key we own
   * but lack may still be on its way, so "not found" would be premature.
   */
  whenSettled(timeoutMs: number): Promise<void>;
}
