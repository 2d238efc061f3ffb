// TakeOver (internal, cluster token): during the decommission of another
// server, copies the contents of the given ranges from it (ListKeys + Fetch,
// through the verifying store). From the first call on, a key of those ranges
// that a client asks for and that has not arrived yet is pulled from the
// server leaving on demand; the catch-up call (with a ring version) ends that
// once everything is here. Never deletes anything.

import type { MessageInitShape } from "@bufbuild/protobuf";
import { requireClusterToken } from "../../common/grpc/cluster-token.ts";
import type { CallContext } from "../../common/grpc/service-handlers.ts";
import type {
  TakeOverRequest,
  TakeOverResponseSchema,
} from "../../gen/albumshare/data/v1/data_pb.ts";
import { parseHostPort } from "../../common/host-port.ts";
import { isServerId } from "../server-identity.ts";
import { invalidArgument } from "../../common/album-error.ts";
import type { DataServerContext } from "../data-server-context.ts";
import { toSafeNumber } from "../ownership.ts";
import { rangesOf } from "./list-keys.ts";

export function takeOverHandler(server: DataServerContext) {
  return async (
    request: TakeOverRequest,
    call: CallContext,
  ): Promise<MessageInitShape<typeof TakeOverResponseSchema>> => {
    requireClusterToken(call.metadata, server.clusterToken);
    if (!isServerId(request.fromServerId))
      throw invalidArgument(`'${request.fromServerId.slice(0, 40)}' is not a data server id`);
    parseHostPort(request.fromAddress);
    const version = toSafeNumber(request.ringVersion, "ring version");
    const ranges = rangesOf(request.ranges);
    const incoming = ranges.map((range) => ({
      range,
      fromServerId: request.fromServerId,
      fromAddress: request.fromAddress,
    }));
    server.incoming.set(incoming);
    const source = { fromServerId: request.fromServerId, fromAddress: request.fromAddress, ranges };
    const totals = await server.copier.copy([source], version, call.signal);
    // After the catch-up copy every key of the ranges is here.
    if (version > 0) server.incoming.clear();
    server.logger.info(
      { from: request.fromServerId, ringVersion: version, keys: totals.keys, bytes: totals.bytes },
      "decommission: took over keys of a server leaving",
    );
    return { copiedKeys: BigInt(totals.keys), copiedBytes: BigInt(totals.bytes) };
  };
}
