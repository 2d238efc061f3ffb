// When the client library tries to reach the central server again after a
// lost connection: exponential backoff with full jitter, capped. Attempt n
// (0-based) waits a uniformly random time in [0, min(cap, base * 2^n)), so
// many clients cut off at once (a server restart) do not come back in step.
// Pure: the random source is passed in.

export interface BackoffPolicy {
  /** Upper bound of the first wait, in ms. */
  readonly baseMs: number;
  /** No wait is ever longer than this, in ms. */
  readonly capMs: number;
}

/** 200 ms doubling up to a cap of 5 s: a restarted server is found within ~5 s of being back. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 200, capMs: 5000 };

/**
 * The wait before reconnect attempt `attempt` (0-based), in whole ms.
 * `random` returns a number in [0, 1) (Math.random's contract).
 */
export function backoffDelayMs(
  attempt: number,
  random: () => number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): number {
  const ceiling = backoffCeilingMs(attempt, policy);
  const r = random();
  const unit = Number.isFinite(r) && r >= 0 && r < 1 ? r : 0;
  return Math.floor(unit * ceiling);
}

/** The largest wait attempt `attempt` may draw: min(cap, base * 2^attempt). */
export function backoffCeilingMs(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const n = Math.max(0, Math.floor(attempt));
  // 2^n overflows to Infinity for large n; the cap bounds it either way.
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(n, 1024));
}
