// What a TLS central server answers a client that spoke the framed protocol
// in plaintext: one error frame, in that protocol, answering the client's
// first request, so the client prints a clear line instead of a garbled-frame
// error. The first chunk is hostile: anything that does not decode gets no
// answer at all (the connection is just closed).
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AlbumError, ErrorCode } from "../album-error.ts";
import {
  ClientFrameSchema,
  ServerFrameSchema,
} from "../../gen/albumshare/central/v1/central_pb.ts";
import { FrameDecoder, encodeFrame } from "../../protocol/frame-decoder.ts";
import { errorToWire } from "../../protocol/wire-error.ts";

/** A first frame larger than this is not looked at (a hello is tens of bytes). */
const MAX_FIRST_FRAME_BYTES = 4096;

export function centralPlaintextRefusal(firstChunk: Buffer): Buffer | undefined {
  let requestId: bigint;
  try {
    const frames = new FrameDecoder(MAX_FIRST_FRAME_BYTES).push(firstChunk);
    if (frames.length === 0) return undefined;
    requestId = fromBinary(ClientFrameSchema, frames[0]!).requestId;
  } catch {
    return undefined;
  }
  const error = new AlbumError(
    ErrorCode.FailedPrecondition,
    "this central server requires TLS: connect with --tls-ca and the system's CA certificate",
  );
  return encodeFrame(
    toBinary(
      ServerFrameSchema,
      create(ServerFrameSchema, { requestId, body: { case: "error", value: errorToWire(error) } }),
    ),
  );
}
