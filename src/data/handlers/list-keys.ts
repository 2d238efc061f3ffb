// ListKeys (internal, cluster token): the keys and sizes held in the given
// ranges, for the server taking them over. With a ring version, first waits
// until this server has adopted it and until every upload it accepted under
// an older version has finished, so the listing misses no write.
// The only way to enumerate keys; never reachable without the token.

import type { MessageInitShape } from "@bufbuild/protobuf";
import { requireClusterToken } from "../../common/grpc/cluster-token.ts";
import type { CallContext } from "../../common/grpc/service-handlers.ts";
import type {
  ListKeysRequest,
  ListKeysResponseSchema,
  TokenRange,
} from "../../gen/albumshare/data/v1/data_pb.ts";
import { keyPosition } from "../../ring/content-key.ts";
import { inRange, type TokenRange as RingRange } from "../../ring/ring.ts";
import type { DataServerContext } from "../data-server-context.ts";
import { toSafeNumber } from "../ownership.ts";

/** How long a hand-over waits for this server to learn the new ring. */
export const HAND_OVER_RING_WAIT_MS = 30_000;

export function rangesOf(ranges: readonly TokenRange[]): RingRange[] {
  return ranges.map((r) => ({ start: r.start, end: r.end }));
}

export function listKeysHandler(server: DataServerContext) {
  return async function* (
    request: ListKeysRequest,
    call: CallContext,
  ): AsyncGenerator<MessageInitShape<typeof ListKeysResponseSchema>> {
    requireClusterToken(call.metadata, server.clusterToken);
    const ranges = rangesOf(request.ranges);
    if (request.ringVersion > 0n) {
      const version = toSafeNumber(request.ringVersion, "ring version");
      await server.ringView.atLeast(version, HAND_OVER_RING_WAIT_MS, call.signal);
      await server.inFlight.drainOlderThan(version);
    }
    for await (const content of server.store.contents()) {
      const position = keyPosition(content.key);
      if (ranges.some((range) => inRange(position, range))) {
        yield { key: content.key, size: BigInt(content.size) };
      }
    }
  };
}
