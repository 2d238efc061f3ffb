// Upload (client streaming): a header with the key and size, then the content
// in chunks. Refuses a key this server does not own (redirect), skips the
// transfer when the key is already stored (dedup), and otherwise stores the
// content through the store's write-aside-verify-rename path.
// Never reads the chunks before ownership and presence are settled, and never
// runs outside a transfer slot: a stream that stops sending is cancelled by
// the slot's stall timeout (transfer-slots.ts); what it sent is kept as a
// partial upload the client may resume (header offset), never as content.

import type { CallContext } from "../../common/grpc/service-handlers.ts";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  UploadOutcome,
  type UploadRequest,
  type UploadResponseSchema,
} from "../../gen/albumshare/data/v1/data_pb.ts";
import { parseContentKey } from "../../ring/content-key.ts";
import { splitContentStream } from "../../common/grpc/content-stream.ts";
import type { DataServerContext } from "../data-server-context.ts";
import { redirectTo, ringForRequest, toSafeNumber } from "../ownership.ts";
import { shortKey } from "../storage/content-store.ts";
import { abortableStream } from "../abortable-stream.ts";

export function uploadHandler(server: DataServerContext) {
  return async (
    requests: AsyncIterable<UploadRequest>,
    call: CallContext,
  ): Promise<MessageInitShape<typeof UploadResponseSchema>> => {
    const slot = await server.transfers.acquire("upload", call.peer, call.signal);
    const onStall = (): void => call.cancel(slot.signal.reason);
    slot.signal.addEventListener("abort", onStall, { once: true });
    try {
      return await receive(server, abortableStream(requests, call.signal, slot.progress), call);
    } finally {
      slot.signal.removeEventListener("abort", onStall);
      slot.release();
    }
  };
}

async function receive(
  server: DataServerContext,
  requests: AsyncIterable<UploadRequest>,
  call: CallContext,
): Promise<MessageInitShape<typeof UploadResponseSchema>> {
  const { header, chunks } = await splitContentStream(requests, "upload");
  const key = parseContentKey(header.key);
  const size = toSafeNumber(header.size, "content size");
  const ring = await ringForRequest(server.ringView, header.ringVersion, call.signal);
  if (!ring.owns(server.serverId, key)) throw redirectTo(ring, key, call.trailers);
  // Registered in the same turn as the ownership check: a hand-over listing
  // for a newer ring waits for this upload (see in-flight-uploads.ts).
  const finished = server.inFlight.begin(ring.version);
  try {
    const existing = await server.store.stat(key);
    if (existing !== undefined) return reply(UploadOutcome.ALREADY_PRESENT, existing);
    const offset = toSafeNumber(header.offset, "resume offset");
    const outcome = await server.store.write(key, size, chunks, offset);
    server.logger.debug({ key: shortKey(key), size, offset, outcome }, "upload");
    return reply(outcome === "stored" ? UploadOutcome.STORED : UploadOutcome.ALREADY_PRESENT, size);
  } finally {
    finished();
  }
}

function reply(
  outcome: UploadOutcome,
  size: number,
): MessageInitShape<typeof UploadResponseSchema> {
  return { outcome, size: BigInt(size) };
}
