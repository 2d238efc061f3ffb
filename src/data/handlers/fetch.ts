// Fetch (internal, cluster token): streams one held content whoever owns it,
// for the server taking it over. Same framing as Download.

import type { MessageInitShape } from "@bufbuild/protobuf";
import { requireClusterToken } from "../../common/grpc/cluster-token.ts";
import type { CallContext } from "../../common/grpc/service-handlers.ts";
import type { FetchRequest, FetchResponseSchema } from "../../gen/albumshare/data/v1/data_pb.ts";
import { parseContentKey } from "../../ring/content-key.ts";
import type { DataServerContext } from "../data-server-context.ts";

export function fetchHandler(server: DataServerContext) {
  return async function* (
    request: FetchRequest,
    call: CallContext,
  ): AsyncGenerator<MessageInitShape<typeof FetchResponseSchema>> {
    requireClusterToken(call.metadata, server.clusterToken);
    const content = await server.store.read(parseContentKey(request.key));
    try {
      yield { part: { case: "header", value: { size: BigInt(content.size), offset: 0n } } };
      for await (const chunk of content.chunks) yield { part: { case: "chunk", value: chunk } };
    } finally {
      await content.close();
    }
  };
}
