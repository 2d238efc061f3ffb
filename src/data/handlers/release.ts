// Release (internal, cluster token): after the new owner has confirmed that it
// holds the handed-over ranges, deletes what this server holds there and no
// longer owns in that ring version (or newer). Never deletes a key this
// server still owns.

import type { MessageInitShape } from "@bufbuild/protobuf";
import { requireClusterToken } from "../../common/grpc/cluster-token.ts";
import type { CallContext } from "../../common/grpc/service-handlers.ts";
import type {
  ReleaseRequest,
  ReleaseResponseSchema,
} from "../../gen/albumshare/data/v1/data_pb.ts";
import { keyPosition } from "../../ring/content-key.ts";
import { inRange } from "../../ring/ring.ts";
import type { DataServerContext } from "../data-server-context.ts";
import { toSafeNumber } from "../ownership.ts";
import { HAND_OVER_RING_WAIT_MS, rangesOf } from "./list-keys.ts";

export function releaseHandler(server: DataServerContext) {
  return async (
    request: ReleaseRequest,
    call: CallContext,
  ): Promise<MessageInitShape<typeof ReleaseResponseSchema>> => {
    requireClusterToken(call.metadata, server.clusterToken);
    const version = toSafeNumber(request.ringVersion, "ring version");
    const ring = await server.ringView.atLeast(version, HAND_OVER_RING_WAIT_MS, call.signal);
    const ranges = rangesOf(request.ranges);
    let deletedKeys = 0;
    let deletedBytes = 0;
    for await (const content of server.store.contents()) {
      const position = keyPosition(content.key);
      if (!ranges.some((range) => inRange(position, range))) continue;
      if (ring.owns(server.serverId, content.key)) continue;
      const size = await server.store.delete(content.key);
      if (size !== undefined) {
        deletedKeys++;
        deletedBytes += size;
      }
    }
    server.logger.info(
      { ringVersion: version, deletedKeys, deletedBytes },
      "released handed-over keys",
    );
    return { deletedKeys: BigInt(deletedKeys), deletedBytes: BigInt(deletedBytes) };
  };
}
