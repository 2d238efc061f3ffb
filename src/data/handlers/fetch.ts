// Fetch (internal, cluster token): streams one held content whoever owns it,
// for the server taking it over. Same framing and transfer slots as Download.

import type { MessageInitShape } from "@bufbuild/protobuf";
import { requireClusterToken } from "../../common/grpc/cluster-token.ts";
import type { CallContext } from "../../common/grpc/service-handlers.ts";
import type { FetchRequest, FetchResponseSchema } from "../../gen/albumshare/data/v1/data_pb.ts";
import { parseContentKey } from "../../ring/content-key.ts";
import type { DataServerContext } from "../data-server-context.ts";
import { sendContent } from "./download.ts";

export function fetchHandler(server: DataServerContext) {
  return async function* (
    request: FetchRequest,
    call: CallContext,
  ): AsyncGenerator<MessageInitShape<typeof FetchResponseSchema>> {
    requireClusterToken(call.metadata, server.clusterToken);
    const key = parseContentKey(request.key);
    const slot = await server.transfers.acquire("fetch", call.peer, call.signal);
    const onStall = (): void => call.cancel(slot.signal.reason);
    slot.signal.addEventListener("abort", onStall, { once: true });
    try {
      yield* sendContent(await server.store.read(key), 0n, slot);
    } finally {
      slot.signal.removeEventListener("abort", onStall);
      slot.release();
    }
  };
}
