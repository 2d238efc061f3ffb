// Growing delays for failed logins, per key (a source address, a user name):
// after a few free failures each further attempt for that key must wait its
// turn, and the spacing doubles with every failure up to a ceiling. Attempts
// are spaced, not just delayed: a hundred connections of one address get one
// attempt per interval between them, not a hundred at once after it. An
// attempt that would wait longer than `maxWaitMs` is refused at once, so a
// flood costs the server neither hashing nor waiting requests.
// Pure bookkeeping: the caller passes the time; no timers, no I/O. It never
// tracks more than `maxTracked` keys (the least recently failed are forgotten).

export interface ThrottlePolicy {
  /** Failures allowed before any delay (typos are free). */
  freeFailures: number;
  /** Spacing after the first delayed failure; doubles per failure. */
  baseDelayMs: number;
  /** Ceiling of the spacing. */
  maxDelayMs: number;
  /** An attempt that would wait longer is refused outright. */
  maxWaitMs: number;
  /** A key without a failure for this long starts afresh. */
  forgetAfterMs: number;
  /** Keys remembered at most (memory bound whatever the number of sources). */
  maxTracked: number;
}

export const DEFAULT_ADDRESS_POLICY: ThrottlePolicy = {
  freeFailures: 5,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  maxWaitMs: 20_000,
  forgetAfterMs: 15 * 60_000,
  maxTracked: 10_000,
};

// Per name the ceiling is lower: a stranger failing on purpose under someone
// else's name slows that person's own logins, so the slowdown stays mild.
export const DEFAULT_NAME_POLICY: ThrottlePolicy = {
  freeFailures: 5,
  baseDelayMs: 250,
  maxDelayMs: 2_000,
  maxWaitMs: 20_000,
  forgetAfterMs: 15 * 60_000,
  maxTracked: 10_000,
};

interface Entry {
  failures: number;
  /** Earliest start of the next attempt. */
  nextAt: number;
  lastFailure: number;
}

export type Admission = { admitted: true; waitMs: number } | { admitted: false; retryInMs: number };

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(readonly policy: ThrottlePolicy) {}

  get trackedKeys(): number {
    return this.entries.size;
  }

  /** The spacing that `failures` failures impose (0 while still free). */
  delayAfter(failures: number): number {
    const { freeFailures, baseDelayMs, maxDelayMs } = this.policy;
    if (failures < freeFailures) return 0;
    return Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(failures - freeFailures, 30));
  }

  /** Reserves this attempt's turn: how long to wait first, or a refusal. */
  admit(key: string, now: number): Admission {
    const entry = this.current(key, now);
    if (!entry) return { admitted: true, waitMs: 0 };
    const delay = this.delayAfter(entry.failures);
    if (delay === 0) return { admitted: true, waitMs: 0 };
    const start = Math.max(now, entry.nextAt);
    if (start - now > this.policy.maxWaitMs) return { admitted: false, retryInMs: start - now };
    entry.nextAt = start + delay;
    return { admitted: true, waitMs: start - now };
  }

  failed(key: string, now: number): void {
    const entry = this.current(key, now) ?? { failures: 0, nextAt: now, lastFailure: now };
    entry.failures++;
    entry.lastFailure = now;
    entry.nextAt = Math.max(entry.nextAt, now + this.delayAfter(entry.failures));
    // Re-inserted so the map's order is the order of last failure.
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.policy.maxTracked) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }

  succeeded(key: string): void {
    this.entries.delete(key);
  }

  private current(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && now - entry.lastFailure > this.policy.forgetAfterMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
