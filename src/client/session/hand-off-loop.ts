// Hands an editor's changes to the central server periodically, so that a
// crash of every editor loses only the last period of edits; and at once on
// request (membership changes must reach the central server without delay).
// Hand-offs are strictly serialized: never two in flight, and a periodic tick
// that finds one running (or queued) skips. A failed hand-off is reported and
// simply retried at the next period. The timer is the only I/O; what a
// hand-off does is the caller's function.

export interface HandOffLoopOptions {
  /** Period of the automatic hand-offs, in ms. */
  intervalMs: number;
  /** True when there is something to hand off. */
  hasChanges: () => boolean;
  /** One hand-off, resolving once the central server acknowledged it. */
  handOff: () => Promise<void>;
  /** Told about each failed hand-off (it is retried at the next period). */
  onError: (error: unknown) => void;
}

export class HandOffLoop {
  readonly #options: HandOffLoopOptions;
  #timer: NodeJS.Timeout | undefined;
  /** The last queued hand-off; each waits for the one before. */
  #tail: Promise<boolean> = Promise.resolve(true);
  #queued = 0;
  #stopped = false;

  constructor(options: HandOffLoopOptions) {
    this.#options = options;
  }

  /** Hand-offs queued or running. */
  get busy(): boolean {
    return this.#queued > 0;
  }

  start(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setInterval(() => this.#tick(), Math.max(1, this.#options.intervalMs));
    // The session's sockets keep the process alive while it edits; this timer must not.
    this.#timer.unref();
  }

  /**
   * Hands off now, after any hand-off in flight. Resolves true when everything
   * was handed off (or there was nothing to hand off), false when it failed.
   * Never rejects.
   */
  now(): Promise<boolean> {
    if (this.#stopped) return Promise.resolve(false);
    return this.#enqueue();
  }

  /** Stops the timer and waits for the hand-off in flight, if any. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#tail;
  }

  #tick(): void {
    if (this.#queued > 0 || !this.#options.hasChanges()) return;
    void this.#enqueue();
  }

  #enqueue(): Promise<boolean> {
    this.#queued++;
    const run = this.#tail
      .then(() => this.#attempt())
      .finally(() => {
        this.#queued--;
      });
    this.#tail = run;
    return run;
  }

  async #attempt(): Promise<boolean> {
    if (!this.#options.hasChanges()) return true;
    try {
      await this.#options.handOff();
      return true;
    } catch (error) {
      this.#options.onError(error);
      return false;
    }
  }
}
