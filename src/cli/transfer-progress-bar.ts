// A progress bar on a terminal (stderr) for one upload or download: one bar,
// relabelled as the transfer moves through its phases (hashing, uploading,
// downloading, verifying). Only for interactive use: scripted and --json runs
// never get one, so their output stays machine-readable.
import cliProgress from "cli-progress";
import type {
  ProgressListener,
  TransferProgress,
} from "../client/data-transfer/transfer-progress.ts";

export interface TransferProgressBar {
  readonly listener: ProgressListener;
  /** Removes the bar; call it whether the transfer succeeded or not. */
  stop(): void;
}

export function startTransferProgressBar(
  label: string,
  stream: NodeJS.WriteStream,
): TransferProgressBar {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} {phase} [{bar}] {percentage}% {done} of {size}`,
      stream,
      clearOnComplete: true,
      hideCursor: true,
      barsize: 30,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const listener = (progress: TransferProgress): void => {
    const payload = {
      phase: progress.phase.padEnd(11),
      done: formatBytes(progress.doneBytes),
      size: formatBytes(progress.totalBytes),
    };
    // An empty file still deserves a full bar rather than a division by zero.
    const total = Math.max(1, progress.totalBytes);
    const value = progress.totalBytes === 0 ? 1 : progress.doneBytes;
    if (!started) {
      bar.start(total, value, payload);
      started = true;
    } else {
      bar.setTotal(total);
      bar.update(value, payload);
    }
  };
  return {
    listener,
    stop: () => {
      if (started) bar.stop();
    },
  };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
