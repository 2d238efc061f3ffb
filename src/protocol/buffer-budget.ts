// A server-wide budget for bytes held in partial frames: each connection
// declares how much it buffers, and a declaration that would take the total
// past the cap is refused, so many slow or stalled senders together can never
// grow the server's memory past a known figure. Pure bookkeeping: no sockets,
// no timers. It never refuses a holder that shrinks or keeps its size.

export class BufferBudget {
  readonly capBytes: number;
  private used = 0;
  private readonly held = new Map<object, number>();

  constructor(capBytes: number) {
    if (!Number.isSafeInteger(capBytes) || capBytes < 0) {
      throw new RangeError(`buffer budget cap must be a non-negative integer, got ${capBytes}`);
    }
    this.capBytes = capBytes;
  }

  /** Bytes declared by all holders together. */
  get usedBytes(): number {
    return this.used;
  }

  /** What `holder` declared last (0 if nothing). */
  heldBy(holder: object): number {
    return this.held.get(holder) ?? 0;
  }

  /**
   * Declares that `holder` now buffers `bytes`. Returns false, changing
   * nothing, when growing to that would pass the cap; shrinking always succeeds.
   */
  set(holder: object, bytes: number): boolean {
    const before = this.held.get(holder) ?? 0;
    if (bytes > before && this.used - before + bytes > this.capBytes) return false;
    this.used += bytes - before;
    if (bytes === 0) this.held.delete(holder);
    else this.held.set(holder, bytes);
    return true;
  }

  /** Forgets `holder` (its connection closed). */
  release(holder: object): void {
    this.set(holder, 0);
  }
}
