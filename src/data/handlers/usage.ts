// Usage (internal, cluster token): number of keys and bytes held, and the
// ring version adopted, for the operator's status table.

import type { MessageInitShape } from "@bufbuild/protobuf";
import { requireClusterToken } from "../../common/grpc/cluster-token.ts";
import type { CallContext } from "../../common/grpc/service-handlers.ts";
import type { UsageRequest, UsageResponseSchema } from "../../gen/albumshare/data/v1/data_pb.ts";
import type { DataServerContext } from "../data-server-context.ts";

export function usageHandler(server: DataServerContext) {
  return async (
    _request: UsageRequest,
    call: CallContext,
  ): Promise<MessageInitShape<typeof UsageResponseSchema>> => {
    requireClusterToken(call.metadata, server.clusterToken);
    const { keys, bytes } = server.store.usage();
    return {
      serverId: server.serverId,
      keys: BigInt(keys),
      bytes: BigInt(bytes),
      ringVersion: BigInt(server.ringView.version),
    };
  };
}
