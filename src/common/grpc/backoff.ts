// Retry pacing for the gRPC links between servers: exponential backoff with
// jitter, capped, and a sleep that an AbortSignal interrupts.

export function backoffDelay(attempt: number, baseMs = 100, capMs = 2_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 10));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
