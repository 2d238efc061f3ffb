// Stat (unary): whether a key is stored and its size, judged like a download
// (held here, or being handed over to us, or owned and absent, or redirect);
// when absent, the cut-off upload of it held here for resuming, if any.

import type { MessageInitShape } from "@bufbuild/protobuf";
import { ErrorCode, AlbumError } from "../../common/album-error.ts";
import type { CallContext } from "../../common/grpc/service-handlers.ts";
import type { StatRequest, StatResponseSchema } from "../../gen/albumshare/data/v1/data_pb.ts";
import { parseContentKey } from "../../ring/content-key.ts";
import type { DataServerContext } from "../data-server-context.ts";
import { openOwnedContent } from "./download.ts";

export function statHandler(server: DataServerContext) {
  return async (
    request: StatRequest,
    call: CallContext,
  ): Promise<MessageInitShape<typeof StatResponseSchema>> => {
    const key = parseContentKey(request.key);
    try {
      const content = await openOwnedContent(server, key, 0, request.ringVersion, call);
      await content.close();
      return { exists: true, size: BigInt(content.size) };
    } catch (reason) {
      if (reason instanceof AlbumError && reason.code === ErrorCode.NotFound) {
        // Only the owner gets here: a cut-off upload it holds may be resumed.
        const partial = await server.store.heldPartial(key);
        return {
          exists: false,
          size: 0n,
          partialSize: BigInt(partial?.size ?? 0),
          partialSha256: partial ? Buffer.from(partial.sha256, "hex") : new Uint8Array(),
        };
      }
      throw reason;
    }
  };
}
