// Uploads a local file to the data server that owns its content: hash it
// (the key), ask the owner whether it already holds the key (dedup: nothing
// is sent then), else stream the file in 1 MiB chunks with backpressure.
// When the owner holds a cut-off upload of the key whose bytes hash like the
// same prefix of our file, only the rest is sent (resume); a prefix that does
// not match, or a partial gone meanwhile, means a whole upload instead.
// Follows redirects through callOwner. Never reads the whole file into
// memory; never shows the key in an error message beyond a prefix.

import { open } from "node:fs/promises";
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import { CHUNK_SIZE } from "../../common/grpc/channel-options.ts";
import type { ConnectionPool } from "../../common/grpc/connection-pool.ts";
import { DataService, UploadOutcome } from "../../gen/albumshare/data/v1/data_pb.ts";
import type { ContentKey } from "../../ring/content-key.ts";
import { sha256OfFile } from "./hash-file.ts";
import type { StatResponse } from "../../gen/albumshare/data/v1/data_pb.ts";
import { callOwner } from "./routed-call.ts";
import type { RingSource } from "./ring-source.ts";
import { uploadSource } from "./upload-source.ts";
import type { ProgressListener } from "./transfer-progress.ts";

export interface UploadResult {
  key: ContentKey;
  size: number;
  /** True when the owner already held the content (nothing was sent). */
  alreadyPresent: boolean;
  /** Bytes a cut-off earlier upload had already sent (only the rest was sent); 0 or absent for none. */
  resumedFrom?: number;
}

export interface TransferOptions {
  /** Connections to reuse across transfers (closed by its owner). */
  pool: ConnectionPool;
  signal?: AbortSignal;
}

export async function uploadWithPool(
  path: string,
  ringSource: RingSource,
  onProgress: ProgressListener | undefined,
  options: TransferOptions,
): Promise<UploadResult> {
  const source = await uploadSource(path);
  try {
    return await uploadFrom(source.path, source.size, ringSource, onProgress, options);
  } finally {
    await source.release();
  }
}

async function uploadFrom(
  path: string,
  size: number,
  ringSource: RingSource,
  onProgress: ProgressListener | undefined,
  options: TransferOptions,
): Promise<UploadResult> {
  const { key, bytes } = await sha256OfFile(
    path,
    size,
    (done) => onProgress?.({ phase: "hashing", doneBytes: done, totalBytes: size }),
    options.signal,
  );
  if (bytes !== size) throw changedWhileReading(path);
  return callOwner(
    key,
    ringSource,
    options.pool,
    async (connection, ring) => {
      const ringVersion = BigInt(ring.version);
      const existing = await connection.unary(
        DataService.method.stat,
        { key, ringVersion },
        { signal: options.signal },
      );
      if (existing.exists) {
        onProgress?.({ phase: "uploading", doneBytes: size, totalBytes: size });
        return { key, size, alreadyPresent: true };
      }
      const send = async (offset: number): Promise<UploadResult> => {
        const call = connection.clientStream(DataService.method.upload, {
          signal: options.signal,
        });
        try {
          let open = await call.send({
            part: {
              case: "header",
              value: { key, size: BigInt(size), ringVersion, offset: BigInt(offset) },
            },
          });
          if (open)
            open = await sendFile(
              path,
              offset,
              size,
              (chunk) => call.send({ part: { case: "chunk", value: chunk } }),
              onProgress,
            );
        } catch (error) {
          call.cancel();
          throw error;
        }
        const reply = await call.finish();
        return {
          key,
          size,
          alreadyPresent: reply.outcome === UploadOutcome.ALREADY_PRESENT,
          ...(offset > 0 ? { resumedFrom: offset } : {}),
        };
      };
      const offset = await resumableOffset(path, size, existing, options.signal);
      if (offset === 0) return send(0);
      try {
        return await send(offset);
      } catch (error) {
        // The partial expired or was taken since we asked: send it all.
        if (AlbumError.from(error).code !== ErrorCode.NotFound) throw error;
        return send(0);
      }
    },
    options.signal,
  );
}

/**
 * How much of the owner's partial upload we may skip: all of it when its
 * SHA-256 equals that of the same prefix of our file, else nothing (a
 * partial sent by someone else, or from another file, is never trusted).
 */
async function resumableOffset(
  path: string,
  size: number,
  stat: StatResponse,
  signal: AbortSignal | undefined,
): Promise<number> {
  const held = Number(stat.partialSize);
  if (!(held > 0 && held < size && stat.partialSha256.byteLength === 32)) return 0;
  const prefix = await sha256OfFile(path, held, undefined, signal);
  if (prefix.bytes !== held) return 0;
  return Buffer.from(stat.partialSha256).toString("hex") === prefix.key ? held : 0;
}

// Sends bytes [from, size) of the file; a fresh buffer per chunk, since gRPC
// may still hold the previous one. Returns false if the server stopped listening.
async function sendFile(
  path: string,
  from: number,
  size: number,
  send: (chunk: Buffer) => Promise<boolean>,
  onProgress: ProgressListener | undefined,
): Promise<boolean> {
  const handle = await open(path, "r");
  const readAt = async (position: number): Promise<Buffer> => {
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK_SIZE, size - position));
    const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, position);
    if (bytesRead === 0) throw changedWhileReading(path);
    return bytesRead === buffer.byteLength ? buffer : buffer.subarray(0, bytesRead);
  };
  // The next chunk is read while the current one is sent: disk and network
  // overlap, and at most two chunks are held here.
  let next: Promise<Buffer> | undefined = size > from ? readAt(from) : undefined;
  try {
    let done = from;
    while (next) {
      const chunk = await next;
      done += chunk.byteLength;
      next = done < size ? readAt(done) : undefined;
      if (!(await send(chunk))) return false;
      onProgress?.({ phase: "uploading", doneBytes: done, totalBytes: size });
    }
    return true;
  } finally {
    await next?.catch(() => undefined);
    await handle.close();
  }
}

function changedWhileReading(path: string): AlbumError {
  return new AlbumError(
    ErrorCode.FailedPrecondition,
    `${path} changed while it was being read; try again`,
  );
}
