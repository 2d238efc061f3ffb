// A progress bar on a terminal (stderr) for one upload or download: one bar,
// relabelled as the transfer moves through its phases (hashing, uploading,
// downloading, verifying). Only for interactive use: scripted and --json runs
// never get one, so their output stays machine-readable.
import cliProgress from "cli-progress";
import { formatBytes } from "../common/format-bytes.ts";
import type {
  ProgressListener,
  TransferProgress,
} from "../client/data-transfer/transfer-progress.ts";

export interface TransferProgressBar {
  readonly listener: ProgressListener;
  /** Prints a notice on a line of its own above the bar, which redraws below it. */
  notice(print: () => void): void;
  /** Removes the bar; call it whether the transfer succeeded or not. */
  stop(): void;
}

/** Below this width the bar keeps only the percentage, the bar and the bytes done. */
export const NARROW_COLUMNS = 60;

/** The bar's layout for a terminal this wide: decorations go first, the percentage last. */
export function progressLayout(
  label: string,
  columns: number,
): { format: string; barsize: number } {
  if (columns >= 80) {
    return { format: `${label} {phase} [{bar}] {percentage}% {done} of {size}`, barsize: 30 };
  }
  if (columns >= NARROW_COLUMNS) {
    return {
      format: `{phase} [{bar}] {percentage}% {done} of {size}`,
      barsize: Math.max(10, columns - 50),
    };
  }
  // "100% [....] 1023 MiB": 6 + 3 + 9 columns around the bar, one spare for the cursor.
  return { format: "{percentage}% [{bar}] {done}", barsize: Math.max(4, columns - 19) };
}

export function startTransferProgressBar(
  label: string,
  stream: NodeJS.WriteStream,
): TransferProgressBar {
  const layout = progressLayout(label, stream.columns || 80);
  const bar = new cliProgress.SingleBar(
    {
      format: layout.format,
      stream,
      clearOnComplete: true,
      hideCursor: true,
      barsize: layout.barsize,
      fps: 10,
      // Never wrap: a wrapped bar leaves a copy of itself on every redraw.
      linewrap: false,
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
    notice: (print) => {
      if (started) stream.write("\r\x1b[2K");
      print();
      if (started) (bar as unknown as { render(force: boolean): void }).render(true);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

export { formatBytes };
