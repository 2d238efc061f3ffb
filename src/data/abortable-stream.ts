// Reads an async iterable (a gRPC request stream) so that a pending read ends
// as soon as a signal aborts, and calls back on every message: a transfer
// whose client stopped sending can be cancelled, and a live one counts as
// progressing. Never buffers: one message is asked for at a time.

/** `source` with each read raced against `signal`, calling `onMessage` per message. */
export async function* abortableStream<T>(
  source: AsyncIterable<T>,
  signal: AbortSignal,
  onMessage: () => void,
): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let rejectOnAbort!: (reason: unknown) => void;
  const aborted = new Promise<never>((_, reject) => (rejectOnAbort = reject));
  aborted.catch(() => undefined);
  const onAbort = (): void => rejectOnAbort(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (true) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) return;
      onMessage();
      yield next.value;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    // Ends the underlying stream (destroys a grpc-js readable); a read left
    // pending by the abort settles with that.
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}
