// Opens a content's bytes from an offset as a stream, at its owner (following
// the ring like every data-path call), for a reader that verifies what it
// reads itself (e.g. block by block against a chunk index) and stops when it
// has enough: leaving the iteration early cancels the call. The bytes are NOT
// verified here; never hand them on unchecked.
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import type { ConnectionPool } from "../../common/grpc/connection-pool.ts";
import { splitContentStream } from "../../common/grpc/content-stream.ts";
import { DataService } from "../../gen/albumshare/data/v1/data_pb.ts";
import { parseContentKey } from "../../ring/content-key.ts";
import { callOwner } from "./routed-call.ts";
import type { RingSource } from "./ring-source.ts";

export interface UnverifiedStream {
  /** Size of the whole content. */
  size: number;
  /** The bytes from the offset asked for, in order; unverified. */
  chunks: AsyncIterable<Uint8Array>;
}

export async function openUnverifiedStream(
  keyText: string,
  offset: number,
  ringSource: RingSource,
  pool: ConnectionPool,
  signal?: AbortSignal,
): Promise<UnverifiedStream> {
  const key = parseContentKey(keyText);
  return callOwner(
    key,
    ringSource,
    pool,
    async (connection, ring) => {
      const stream = connection.serverStream(
        DataService.method.download,
        { key, offset: BigInt(offset), ringVersion: BigInt(ring.version) },
        { signal },
      );
      const split = await splitContentStream(stream, `download from ${connection.peerName}`);
      if (Number(split.header.offset) !== offset) {
        throw new AlbumError(
          ErrorCode.Internal,
          `${connection.peerName} answered from another offset than asked`,
        );
      }
      return { size: Number(split.header.size), chunks: split.chunks };
    },
    signal,
  );
}
