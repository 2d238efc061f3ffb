// The transfers a data server runs at once (uploads, downloads, fetches), each
// holding a file handle. Bounded, so a flood of streams can never take every
// file handle of the process; a transfer that makes no progress (no chunk
// received, no chunk taken by the client) for the stall timeout is cancelled.
// When every slot is taken a new transfer waits (a bounded queue, for at most
// the stall timeout); a slot frees when a transfer ends, or by evicting the
// transfer idle longest once it has been idle for a short grace. Waiting
// transfers are served fairly: first the one whose connection holds the fewest
// slots, so a flood over a few connections cannot starve another client.
// The decisions (stalled, victim, next waiter) are pure functions of the
// slots and the clock; the class keeps the table and one timer. It never
// touches a stream or a file: a cancelled transfer learns it from its signal.

import { AlbumError, ErrorCode } from "../common/album-error.ts";

export interface TransferLimits {
  /** Transfers at once. */
  maxTransfers: number;
  /** A transfer without progress for this long is cancelled; a waiter waits at most this long. */
  stallTimeoutMs: number;
  /** A full table evicts the longest-idle transfer once it has been idle this long. */
  evictIdleAfterMs: number;
  /** Transfers that may wait for a slot. */
  maxWaiting: number;
}

export const DEFAULT_STALL_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_TRANSFERS = 512;
const DEFAULT_EVICT_IDLE_AFTER_MS = 2_000;

/** What the pure decisions see of a running transfer. */
export interface SlotState {
  readonly lastProgress: number;
}

/** What the pure decisions see of a waiting transfer. */
export interface WaiterState {
  /** The connection it came on ("ipv4:127.0.0.1:50312"). */
  readonly peer: string;
  readonly since: number;
}

/** The transfers that have made no progress for `stallTimeoutMs` at `now`. */
export function stalledSlots<S extends SlotState>(
  slots: Iterable<S>,
  now: number,
  stallTimeoutMs: number,
): S[] {
  return [...slots].filter((slot) => now - slot.lastProgress >= stallTimeoutMs);
}

/** The transfer to evict for a waiter: the longest idle, if idle long enough. */
export function evictionVictim<S extends SlotState>(
  slots: Iterable<S>,
  now: number,
  evictIdleAfterMs: number,
): S | undefined {
  let victim: S | undefined;
  for (const slot of slots) {
    if (now - slot.lastProgress < evictIdleAfterMs) continue;
    if (victim === undefined || slot.lastProgress < victim.lastProgress) victim = slot;
  }
  return victim;
}

/** The waiter served next: its connection holds the fewest slots; the earliest among those. */
export function nextWaiter<W extends WaiterState>(
  waiters: readonly W[],
  heldBy: (peer: string) => number,
): W | undefined {
  let best: W | undefined;
  let bestHeld = Infinity;
  for (const waiter of waiters) {
    const held = heldBy(waiter.peer);
    if (held < bestHeld || (held === bestHeld && best !== undefined && waiter.since < best.since)) {
      best = waiter;
      bestHeld = held;
    }
  }
  return best;
}

export interface TransferSlot {
  /** Aborted when the transfer is cancelled for a stall or evicted. */
  readonly signal: AbortSignal;
  /** Records progress (a chunk received or sent). */
  progress(): void;
  /** Frees the slot; idempotent. */
  release(): void;
}

interface Entry extends SlotState {
  lastProgress: number;
  readonly peer: string;
  readonly what: string;
  readonly controller: AbortController;
}

interface Waiter extends WaiterState {
  readonly what: string;
  readonly grant: (slot: TransferSlot) => void;
  readonly refuse: (error: AlbumError) => void;
}

export class TransferSlots {
  readonly limits: TransferLimits;
  private readonly entries = new Set<Entry>();
  private readonly heldByPeer = new Map<string, number>();
  private waiters: Waiter[] = [];
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(limits: Partial<TransferLimits> = {}, now: () => number = Date.now) {
    const maxTransfers = limits.maxTransfers ?? DEFAULT_MAX_TRANSFERS;
    const stallTimeoutMs = limits.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    this.limits = {
      maxTransfers,
      stallTimeoutMs,
      evictIdleAfterMs: Math.min(
        limits.evictIdleAfterMs ?? DEFAULT_EVICT_IDLE_AFTER_MS,
        stallTimeoutMs,
      ),
      maxWaiting: limits.maxWaiting ?? 4 * maxTransfers,
    };
    if (!Number.isInteger(maxTransfers) || maxTransfers < 1)
      throw new AlbumError(ErrorCode.InvalidArgument, "at least one transfer must be allowed");
    this.now = now;
  }

  /** Running transfers. */
  get size(): number {
    return this.entries.size;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Starts the timer that cancels stalled transfers and serves waiters by eviction. */
  start(): void {
    if (this.timer) return;
    const period = Math.max(
      25,
      Math.floor(Math.min(this.limits.stallTimeoutMs / 4, this.limits.evictIdleAfterMs / 2)),
    );
    this.timer = setInterval(() => this.sweep(), period);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters)
      w.refuse(new AlbumError(ErrorCode.Unavailable, "the data server is stopping"));
  }

  /**
   * Cancels every transfer that made no progress for the stall timeout,
   * refuses waiters that waited that long, and serves the others. Returns
   * the number of transfers cancelled.
   */
  sweep(): number {
    const now = this.now();
    const stalled = stalledSlots(this.entries, now, this.limits.stallTimeoutMs);
    const seconds = this.limits.stallTimeoutMs / 1000;
    for (const entry of stalled) {
      this.cancel(
        entry,
        new AlbumError(
          ErrorCode.Unavailable,
          `the ${entry.what} made no progress for ${seconds} s and was cancelled`,
        ),
      );
    }
    const expired = this.waiters.filter((w) => now - w.since >= this.limits.stallTimeoutMs);
    if (expired.length > 0) {
      this.waiters = this.waiters.filter((w) => !expired.includes(w));
      for (const w of expired) w.refuse(this.busy());
    }
    this.serveWaiters();
    return stalled.length;
  }

  /**
   * A slot for a transfer described by `what` ("upload", "download") coming
   * on connection `peer`: at once when one is free, else after waiting. Throws
   * ResourceExhausted when too many already wait or the wait times out, and
   * the signal's reason when it aborts while waiting.
   */
  acquire(what: string, peer: string, signal?: AbortSignal): Promise<TransferSlot> {
    if (this.waiters.length === 0 && this.entries.size < this.limits.maxTransfers)
      return Promise.resolve(this.grant(what, peer));
    if (this.waiters.length >= this.limits.maxWaiting) return Promise.reject(this.busy());
    return new Promise<TransferSlot>((resolve, reject) => {
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        peer,
        what,
        since: this.now(),
        grant: (slot) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(slot);
        },
        refuse: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
      this.serveWaiters();
    });
  }

  private busy(): AlbumError {
    return new AlbumError(
      ErrorCode.ResourceExhausted,
      `the data server is busy with ${this.entries.size} transfers; retry shortly`,
    );
  }

  private serveWaiters(): void {
    while (this.waiters.length > 0) {
      if (this.entries.size >= this.limits.maxTransfers) {
        const now = this.now();
        const victim = evictionVictim(this.entries, now, this.limits.evictIdleAfterMs);
        if (!victim) return;
        this.cancel(
          victim,
          new AlbumError(
            ErrorCode.Unavailable,
            `the ${victim.what} made no progress for ${Math.round((now - victim.lastProgress) / 1000)} s and was cancelled to serve another transfer`,
          ),
        );
      }
      const waiter = nextWaiter(this.waiters, (peer) => this.heldByPeer.get(peer) ?? 0)!;
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.grant(this.grant(waiter.what, waiter.peer));
    }
  }

  private grant(what: string, peer: string): TransferSlot {
    const entry: Entry = {
      lastProgress: this.now(),
      peer,
      what,
      controller: new AbortController(),
    };
    this.entries.add(entry);
    this.heldByPeer.set(peer, (this.heldByPeer.get(peer) ?? 0) + 1);
    return {
      signal: entry.controller.signal,
      progress: () => {
        entry.lastProgress = this.now();
      },
      release: () => {
        if (this.remove(entry)) this.serveWaiters();
      },
    };
  }

  private remove(entry: Entry): boolean {
    if (!this.entries.delete(entry)) return false;
    const held = (this.heldByPeer.get(entry.peer) ?? 1) - 1;
    if (held === 0) this.heldByPeer.delete(entry.peer);
    else this.heldByPeer.set(entry.peer, held);
    return true;
  }

  private cancel(entry: Entry, reason: AlbumError): void {
    // The slot is free at once: the transfer's file is closed as it unwinds.
    this.remove(entry);
    entry.controller.abort(reason);
  }
}
