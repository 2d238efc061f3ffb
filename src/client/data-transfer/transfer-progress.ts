// Progress of an upload or a download, reported after every chunk so a shell
// can draw a progress bar. Pure data.

export type TransferPhase = "hashing" | "uploading" | "downloading" | "verifying";

export interface TransferProgress {
  phase: TransferPhase;
  doneBytes: number;
  totalBytes: number;
}

export type ProgressListener = (progress: TransferProgress) => void;
