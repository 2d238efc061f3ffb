// The client side of the data path: uploads and downloads through one pool of
// connections to the data servers, routed by a RingSource. `uploadFile` and
// `downloadFile` are one-shot forms that open and close their own pool.

import { ConnectionPool } from "../../common/grpc/connection-pool.ts";
import { downloadWithPool, type DownloadResult } from "./download.ts";
import { openUnverifiedStream, type UnverifiedStream } from "./download-stream.ts";
import type { RingSource } from "./ring-source.ts";
import type { ProgressListener } from "./transfer-progress.ts";
import { uploadWithPool, type UploadResult } from "./upload.ts";

export class DataTransferClient {
  private readonly pool = new ConnectionPool((address) => `data server ${address}`);
  private closed = false;

  constructor(private readonly ringSource: RingSource) {}

  /** Uploads the file at `path`; returns its key, size and whether it was already stored. */
  upload(path: string, onProgress?: ProgressListener, signal?: AbortSignal): Promise<UploadResult> {
    return uploadWithPool(path, this.ringSource, onProgress, { pool: this.pool, signal });
  }

  /**
   * Downloads `key` to `destPath` (verified, written aside, resumable);
   * `durable: false` skips flushing it to disk (for a cache emptied at start).
   */
  download(
    key: string,
    destPath: string,
    onProgress?: ProgressListener,
    signal?: AbortSignal,
    options: { durable?: boolean } = {},
  ): Promise<DownloadResult> {
    return downloadWithPool(key, destPath, this.ringSource, onProgress, {
      pool: this.pool,
      signal,
      ...options,
    });
  }

  /** The bytes of `key` from `offset`, UNVERIFIED: for a reader that checks them itself. */
  openUnverified(key: string, offset: number, signal?: AbortSignal): Promise<UnverifiedStream> {
    return openUnverifiedStream(key, offset, this.ringSource, this.pool, signal);
  }

  /**
   * Opens the connections to the data servers ahead of the first transfer
   * (the first call on a fresh connection pays the HTTP/2 set-up), e.g. while
   * an album opens whose thumbnails will be fetched next. Best effort: never
   * fails, waits at most `timeoutMs`, and does nothing a transfer would not do.
   */
  async warmUp(timeoutMs = 5000): Promise<void> {
    try {
      let ring = this.ringSource.current();
      if (ring.isEmpty()) ring = await this.ringSource.refresh();
      if (this.closed) return;
      const deadline = Date.now() + timeoutMs;
      await Promise.all(
        ring.nodes.map(
          (node) =>
            new Promise<void>((resolve) =>
              this.pool.get(node.address).client.waitForReady(deadline, () => resolve()),
            ),
        ),
      );
    } catch {
      // The transfer itself reports what is wrong.
    }
  }

  close(): void {
    this.closed = true;
    this.pool.close();
  }
}

export async function uploadFile(
  path: string,
  ringSource: RingSource,
  onProgress?: ProgressListener,
): Promise<UploadResult> {
  const client = new DataTransferClient(ringSource);
  try {
    return await client.upload(path, onProgress);
  } finally {
    client.close();
  }
}

export async function downloadFile(
  key: string,
  destPath: string,
  ringSource: RingSource,
  onProgress?: ProgressListener,
): Promise<DownloadResult> {
  const client = new DataTransferClient(ringSource);
  try {
    return await client.download(key, destPath, onProgress);
  } finally {
    client.close();
  }
}

export type { DownloadResult, ProgressListener, RingSource, UploadResult };
export type { TransferProgress } from "./transfer-progress.ts";
