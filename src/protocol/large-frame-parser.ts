// Parses large frames in one worker thread, so that the decoding of a crafted
// frame (16 MiB of tiny fields takes most of a second) never stalls the event
// loop that serves everyone else. The worker answers with the frame's
// canonical encoding, which the caller then parses in little time: its size is
// that of the real content. One worker, frames in arrival order; it starts on
// the first large frame and stops after a while without one.
// It must never be used for small frames (the round trip costs more than the
// parse) and never keeps a frame after answering.
import { Worker } from "node:worker_threads";
import { AlbumError, ErrorCode } from "../common/album-error.ts";

/** Frames from this size on are parsed in the worker (below, the parse is short). */
export const DEFAULT_LARGE_FRAME_BYTES = 256 * 1024;
const IDLE_STOP_MS = 30_000;

interface Pending {
  resolve(clean: Uint8Array): void;
  reject(error: AlbumError): void;
}

export class LargeFrameParser {
  readonly minBytes: number;
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;

  /** `schemaModule` is the URL of a module exporting the schema as `schemaExport`. */
  constructor(
    private readonly schemaModule: URL,
    private readonly schemaExport: string,
    minBytes = DEFAULT_LARGE_FRAME_BYTES,
  ) {
    this.minBytes = minBytes;
  }

  parse(frame: Uint8Array): Promise<Uint8Array> {
    const worker = this.worker ?? this.startWorker();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // A copy of its own (the frame may be a view into a buffer shared with
      // other frames), then moved to the worker rather than copied again.
      const copy = Uint8Array.prototype.slice.call(frame);
      worker.postMessage({ id, frame: copy }, [copy.buffer]);
    });
  }

  async stop(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    this.failAll("the server is shutting down");
    await worker?.terminate();
  }

  private startWorker(): Worker {
    const workerData = { schemaModule: this.schemaModule.href, schemaExport: this.schemaExport };
    const fromSource = import.meta.url.endsWith(".ts");
    const body = new URL(`./large-frame-worker.${fromSource ? "ts" : "js"}`, import.meta.url);
    // Run from the TypeScript sources, the worker first registers the same
    // loader as the main thread (loader flags are not inherited by workers).
    const worker = fromSource
      ? new Worker(
          `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(body.href)}); });`,
          { eval: true, workerData },
        )
      : new Worker(body, { workerData });
    worker.unref();
    worker.on("message", (answer: { id: number; clean?: Uint8Array; error?: string }) => {
      const waiting = this.pending.get(answer.id);
      if (!waiting) return;
      this.pending.delete(answer.id);
      if (answer.clean) waiting.resolve(answer.clean);
      else
        waiting.reject(new AlbumError(ErrorCode.InvalidArgument, answer.error ?? "invalid frame"));
      if (this.pending.size === 0) this.scheduleStop();
    });
    const lost = (): void => {
      // A worker stopped for idleness is no longer current and had nothing pending.
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll("the frame parser stopped");
    };
    worker.on("error", lost);
    worker.on("exit", lost);
    this.worker = worker;
    return worker;
  }

  private scheduleStop(): void {
    this.idleTimer = setTimeout(() => {
      const worker = this.worker;
      this.worker = undefined;
      void worker?.terminate();
    }, IDLE_STOP_MS);
    this.idleTimer.unref();
  }

  private failAll(reason: string): void {
    for (const waiting of this.pending.values())
      waiting.reject(new AlbumError(ErrorCode.Unavailable, reason));
    this.pending.clear();
  }
}
