// SHA-256 of a local file, streamed in chunks (bounded memory whatever the
// size), reporting progress. The hex digest is the file's content key.

import { createHash, type Hash } from "node:crypto";
import { open } from "node:fs/promises";
import { CHUNK_SIZE } from "../../common/grpc/channel-options.ts";

/** Feeds bytes [0, length) of `path` into `hash`; returns the bytes read. */
export async function hashFileInto(
  path: string,
  hash: Hash,
  length: number,
  onBytes?: (doneBytes: number) => void,
  signal?: AbortSignal,
): Promise<number> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
    let done = 0;
    while (done < length) {
      // A long hash (a large file) stops when the transfer is cancelled.
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK_SIZE, length - done), done);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      done += bytesRead;
      onBytes?.(done);
    }
    return done;
  } finally {
    await handle.close();
  }
}

export async function sha256OfFile(
  path: string,
  length: number,
  onBytes?: (doneBytes: number) => void,
  signal?: AbortSignal,
): Promise<{ key: string; bytes: number }> {
  const hash = createHash("sha256");
  const bytes = await hashFileInto(path, hash, length, onBytes, signal);
  return { key: hash.digest("hex"), bytes };
}
