// Serves one byte range of a video before the whole file is in the content
// cache: the content's chunk index (its key recorded in the file entry) is
// fetched and verified by its key, then the blocks holding the range are
// streamed from the data server and each is checked against the index before
// any of its bytes is written (ChunkVerifier). A block that does not match
// ends the reply there: the page never receives an unverified byte. The
// whole file is fetched into the cache meanwhile, so later ranges come from
// there. Memory: one block per reply, and at most RangeSlots replies at once
// (past them a range waits for the whole file, as without an index).
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ChunkVerifier } from "../common/chunk-index.ts";
import type { DataTransferClient } from "../client/data-transfer/data-transfer-client.ts";
import type { ContentCache } from "./content-cache.ts";
import { contentHeaders, writeHead, type ContentReply } from "./http-io.ts";
import { parseRange } from "./http-range.ts";

/** Bounds the replies streaming from verified blocks at once (each holds one block). */
export class RangeSlots {
  readonly #max: number;
  #inUse = 0;

  constructor(max: number) {
    this.#max = max;
  }

  tryTake(): boolean {
    if (this.#inUse >= this.#max) return false;
    this.#inUse++;
    return true;
  }

  give(): void {
    this.#inUse--;
  }
}

export interface ChunkedContent {
  key: string;
  size: number;
  chunkIndexKey: string;
  reply: ContentReply;
}

/**
 * Answers `request` (which has a satisfiable Range) from verified blocks;
 * false when it is not such a request (the caller serves it from the cache).
 */
export async function sendVerifiedRange(
  request: IncomingMessage,
  response: ServerResponse,
  content: ChunkedContent,
  cache: ContentCache,
  transfer: DataTransferClient,
  slots: RangeSlots,
): Promise<boolean> {
  const range = parseRange(request.headers.range, content.size);
  if (range.kind !== "partial" || request.method === "HEAD") return false;
  if (!slots.tryTake()) return false;
  try {
    return await streamRange(response, content, range, cache, transfer);
  } finally {
    slots.give();
  }
}

async function streamRange(
  response: ServerResponse,
  content: ChunkedContent,
  range: { start: number; end: number },
  cache: ContentCache,
  transfer: DataTransferClient,
): Promise<boolean> {
  const fetch = async (key: string, path: string): Promise<void> => {
    await transfer.download(key, path);
  };
  const held = await cache.open(content.chunkIndexKey, fetch);
  let index: Buffer;
  try {
    index = await readFile(held.path);
  } finally {
    held.release();
  }
  const verifier = new ChunkVerifier(index, content.size, range.start, range.end);
  // Later ranges (a seek) come from the cache once the whole file is in.
  void cache.open(content.key, fetch).then(
    (whole) => whole.release(),
    () => {},
  );
  const abort = new AbortController();
  response.once("close", () => abort.abort());
  const stream = await transfer.openUnverified(content.key, verifier.offset, abort.signal);
  writeHead(response, 206, {
    ...contentHeaders(content.reply),
    "Content-Range": `bytes ${range.start}-${range.end}/${content.size}`,
    "Content-Length": range.end - range.start + 1,
  });
  try {
    for await (const chunk of stream.chunks) {
      for (const verified of verifier.push(chunk)) {
        if (!response.write(verified)) await drained(response);
      }
      if (verifier.done || response.destroyed) break;
    }
    if (response.destroyed) return true;
    verifier.finish();
  } catch (error) {
    abort.abort();
    // The page went away (a seek aborts the previous range): nothing to report.
    if (response.destroyed) return true;
    // Headers are out: the only honest end is a cut reply (sendError destroys it).
    throw error;
  }
  response.end();
  return true;
}

function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off("drain", done);
      response.off("close", done);
      resolve();
    };
    response.once("drain", done);
    response.once("close", done);
  });
}
