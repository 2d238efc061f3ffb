// Download (server streaming): a header with the content's size, then the
// content from the requested offset in chunks. A server serves what it holds
// even if the ring moved the key elsewhere (an old owner keeps serving until
// it releases), pulls a key still being handed over to it, and redirects a
// request for a key it neither holds nor owns. Runs in a transfer slot: a
// client that stops reading is cancelled after the stall timeout.

import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CallContext } from "../../common/grpc/service-handlers.ts";
import type {
  DownloadRequest,
  DownloadResponseSchema,
} from "../../gen/albumshare/data/v1/data_pb.ts";
import { parseContentKey, type ContentKey } from "../../ring/content-key.ts";
import type { DataServerContext } from "../data-server-context.ts";
import type { TransferSlot } from "../transfer-slots.ts";
import { redirectTo, ringForRequest, toSafeNumber } from "../ownership.ts";
import { shortKey, type ContentRead } from "../storage/content-store.ts";
import { AlbumError, ErrorCode, notFound } from "../../common/album-error.ts";

type Reply = MessageInitShape<typeof DownloadResponseSchema>;

/** One message of a content stream (Download and Fetch share the framing). */
export type ContentPart =
  | { part: { case: "header"; value: { size: bigint; offset: bigint } } }
  | { part: { case: "chunk"; value: Uint8Array } };

export function downloadHandler(server: DataServerContext) {
  return async function* (request: DownloadRequest, call: CallContext): AsyncGenerator<Reply> {
    const key = parseContentKey(request.key);
    const offset = toSafeNumber(request.offset, "offset");
    const slot = await server.transfers.acquire("download", call.peer, call.signal);
    const onStall = (): void => call.cancel(slot.signal.reason);
    slot.signal.addEventListener("abort", onStall, { once: true });
    try {
      const content = await openOwnedContent(server, key, offset, request.ringVersion, call);
      yield* sendContent(content, BigInt(offset), slot);
    } finally {
      slot.signal.removeEventListener("abort", onStall);
      slot.release();
    }
  };
}

/**
 * A header, then the chunks of `content`, closing it in the end. Each chunk
 * asked for after the first means the client took the previous one: progress.
 */
export async function* sendContent(
  content: ContentRead,
  offset: bigint,
  slot: TransferSlot,
): AsyncGenerator<ContentPart> {
  try {
    yield { part: { case: "header", value: { size: BigInt(content.size), offset } } };
    slot.progress();
    for await (const chunk of content.chunks) {
      yield { part: { case: "chunk", value: chunk } };
      slot.progress();
    }
  } finally {
    await content.close();
  }
}

/**
 * Opens `key` for a client: what we hold, else what is being handed over to
 * us, else NotFound when we own it, else a redirect.
 */
export async function openOwnedContent(
  server: DataServerContext,
  key: ContentKey,
  offset: number,
  clientRingVersion: bigint,
  call: CallContext,
): Promise<ContentRead> {
  const held = await readIfHeld(server, key, offset);
  if (held) return held;
  const ring = await ringForRequest(server.ringView, clientRingVersion, call.signal);
  if (!ring.owns(server.serverId, key)) throw redirectTo(ring, key, call.trailers);
  await server.whenSettled(5_000);
  if (await server.pullThrough.ensureLocal(key)) {
    const pulled = await readIfHeld(server, key, offset);
    if (pulled) return pulled;
  }
  throw notFound(`no content with key ${shortKey(key)}`);
}

async function readIfHeld(
  server: DataServerContext,
  key: ContentKey,
  offset: number,
): Promise<ContentRead | undefined> {
  if ((await server.store.stat(key)) === undefined) return undefined;
  try {
    return await server.store.read(key, offset);
  } catch (error) {
    // Released between the two calls: answer as if it had not been here.
    if (error instanceof AlbumError && error.code === ErrorCode.NotFound) return undefined;
    throw error;
  }
}
