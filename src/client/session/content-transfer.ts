// What an editing session needs from the data path: upload a local file
// (returns its content key once the owning data server confirmed it) and
// download a content to a local path, verified. DataTransferClient is the real
// implementation; tests may pass an in-memory one. Declarations only.
import type { DownloadResult, UploadResult } from "../data-transfer/data-transfer-client.ts";
import type { ProgressListener } from "../data-transfer/transfer-progress.ts";

export interface ContentTransfer {
  upload(path: string, onProgress?: ProgressListener, signal?: AbortSignal): Promise<UploadResult>;
  download(
    key: string,
    destPath: string,
    onProgress?: ProgressListener,
    signal?: AbortSignal,
  ): Promise<DownloadResult>;
  close(): void;
}
