// Downloads a content by key to a local path: streams it from the owner,
// verifying the SHA-256 while writing to a file aside (`<dest>.albumshare-part`),
// and renames it into place only when it is whole and verified. An
// interrupted download resumes from the partial file (re-hashing what it
// holds first). Never leaves a mismatched file at `dest`.

import { createHash } from "node:crypto";
import { open, rename, rm, stat, truncate } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import { splitContentStream } from "../../common/grpc/content-stream.ts";
import { DataService } from "../../gen/albumshare/data/v1/data_pb.ts";
import { parseContentKey, type ContentKey } from "../../ring/content-key.ts";
import { fsyncDirectory } from "../../data/storage/durable-fs.ts";
import { hashFileInto } from "./hash-file.ts";
import { callOwner } from "./routed-call.ts";
import type { RingSource } from "./ring-source.ts";
import type { ProgressListener } from "./transfer-progress.ts";
import type { TransferOptions } from "./upload.ts";

export const PARTIAL_SUFFIX = ".albumshare-part";

export interface DownloadResult {
  key: ContentKey;
  size: number;
  /** Bytes already present in a partial file from an interrupted download. */
  resumedFrom: number;
}

export interface DownloadOptions extends TransferOptions {
  /**
   * False: the verified file is not flushed to disk before it is renamed into
   * place (a cache emptied at every start needs no durability, and two
   * fsyncs cost more than a small download). Default true.
   */
  durable?: boolean;
}

export async function downloadWithPool(
  keyText: string,
  destPath: string,
  ringSource: RingSource,
  onProgress: ProgressListener | undefined,
  options: DownloadOptions,
): Promise<DownloadResult> {
  const key = parseContentKey(keyText);
  const partial = `${destPath}${PARTIAL_SUFFIX}`;
  let firstOffset: number | undefined;
  return callOwner(
    key,
    ringSource,
    options.pool,
    async (connection, ring) => {
      const offset = await partialSize(partial);
      firstOffset ??= offset;
      const hash = createHash("sha256");
      if (offset > 0) {
        const rehashed = await hashFileInto(partial, hash, offset, (done) =>
          onProgress?.({ phase: "verifying", doneBytes: done, totalBytes: offset }),
        );
        if (rehashed !== offset)
          throw new AlbumError(ErrorCode.Unavailable, `${partial} changed while resuming`);
      }
      let handle: FileHandle | undefined;
      let writing: Promise<void> = Promise.resolve();
      try {
        const stream = connection.serverStream(
          DataService.method.download,
          { key, offset: BigInt(offset), ringVersion: BigInt(ring.version) },
          { signal: options.signal },
        );
        let split;
        try {
          split = await splitContentStream(stream, `download from ${connection.peerName}`);
        } catch (reason) {
          const error = AlbumError.from(reason);
          // A partial file longer than the content: start over.
          if (
            offset > 0 &&
            error.code === ErrorCode.InvalidArgument &&
            /beyond the end/.test(error.message)
          ) {
            await truncate(partial, 0);
            throw new AlbumError(
              ErrorCode.Unavailable,
              "partial download was longer than the content; restarting",
            );
          }
          throw error;
        }
        const size = Number(split.header.size);
        // Opened only once the server has the content: a refused download
        // leaves no partial file behind.
        const opened = await open(partial, offset > 0 ? "r+" : "w").catch((reason: unknown) =>
          Promise.reject(localWriteError(partial, reason)),
        );
        handle = opened;
        let position = offset;
        for await (const chunk of split.chunks) {
          if (position + chunk.byteLength > size) {
            throw new AlbumError(
              ErrorCode.Internal,
              `${connection.peerName} sent more than the ${size} bytes announced`,
            );
          }
          hash.update(chunk);
          // One write in flight while the next chunk arrives (see the store).
          await writing;
          writing = writeAt(opened, chunk, position);
          position += chunk.byteLength;
          onProgress?.({ phase: "downloading", doneBytes: position, totalBytes: size });
        }
        await writing;
        if (position !== size) {
          throw new AlbumError(
            ErrorCode.Unavailable,
            `the download stopped after ${position} of ${size} bytes; it resumes from there when retried`,
          );
        }
        if (hash.digest("hex") !== key) {
          await opened.close();
          handle = undefined;
          await rm(partial, { force: true });
          throw new AlbumError(
            ErrorCode.Internal,
            "the downloaded content does not hash to its key; it was discarded",
          );
        }
        if (options.durable !== false) await opened.sync();
        await opened.close();
        handle = undefined;
        await rename(partial, destPath).catch((reason: unknown) =>
          Promise.reject(localWriteError(destPath, reason)),
        );
        if (options.durable !== false) await fsyncDirectory(dirname(destPath));
        return { key, size, resumedFrom: firstOffset };
      } finally {
        await writing.catch(() => undefined);
        await handle?.close();
      }
    },
    options.signal,
  );
}

/**
 * A local file that cannot be written is the local side's problem: its own
 * code and message naming the path, so nothing upstream takes it for a
 * missing content (NotFound) on the data servers.
 */
function localWriteError(path: string, reason: unknown): AlbumError {
  const code = (reason as NodeJS.ErrnoException).code ?? "error";
  return new AlbumError(
    ErrorCode.FailedPrecondition,
    `cannot write the local file ${path} (${code})`,
    {
      cause: reason,
    },
  );
}

async function writeAt(handle: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < chunk.byteLength) {
    const { bytesWritten } = await handle.write(
      chunk,
      written,
      chunk.byteLength - written,
      position + written,
    );
    written += bytesWritten;
  }
}

async function partialSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return 0;
    throw AlbumError.from(error);
  }
}
