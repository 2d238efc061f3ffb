// Bounds how many messages a grpc-js stream holds in memory. grpc-js streams
// are Node object-mode streams whose high-water mark is 16 messages, i.e.
// 16 MiB of content chunks per direction; 'drain' only fires past that mark.
// A window of a few chunks keeps the pipe full on loopback and bounds the
// memory of every transfer whatever the file size.

import type { Readable, Writable } from "node:stream";

/** Chunks in flight per stream and direction. */
export const STREAM_WINDOW = 2;

/** Lowers the read-ahead of a readable gRPC stream (it reads messages as the buffer empties). */
export function limitReadAhead(stream: Readable, messages = STREAM_WINDOW): void {
  // Node keeps the mark in _readableState and consults it on every read; no
  // public setter exists after construction. Left unchanged if absent.
  const state = (stream as unknown as { _readableState?: { highWaterMark?: number } })
    ._readableState;
  if (state && typeof state.highWaterMark === "number") state.highWaterMark = messages;
}

/**
 * Writes messages keeping at most `limit` not yet handed to HTTP/2: each
 * write waits for the write `limit` places before it to complete.
 */
export class WriteWindow {
  private readonly pending: Promise<void>[] = [];

  constructor(
    private readonly stream: Writable,
    private readonly limit = STREAM_WINDOW,
  ) {}

  /** Queues `message`; resolves once fewer than `limit` writes are pending. */
  async write(message: unknown): Promise<void> {
    this.pending.push(new Promise<void>((resolve) => this.stream.write(message, () => resolve())));
    if (this.pending.length >= this.limit) await this.pending.shift();
  }

  /** Resolves when every queued write has completed. */
  async flush(): Promise<void> {
    await Promise.all(this.pending.splice(0));
  }
}
