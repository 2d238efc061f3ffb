// A single-consumer queue exposed as an async iterable, with backpressure: a
// producer that awaits push() waits while the queue holds highWaterMark items
// or more. offer() enqueues without waiting, for producers that must never
// block (timers releasing delayed messages, event handlers); those are bounded
// by their own logic. Never drops an item; close() ends the iteration once the
// queued items are consumed.

export class AsyncQueue<T> implements AsyncIterable<T> {
  readonly #highWaterMark: number;
  #items: T[] = [];
  #head = 0;
  #closed = false;
  #iterating = false;
  #consumerWake: (() => void) | undefined;
  #producerWakes: Array<() => void> = [];

  constructor(highWaterMark = Number.POSITIVE_INFINITY) {
    this.#highWaterMark = highWaterMark;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Enqueues, then waits while the queue is at or above its high-water mark. */
  async push(item: T): Promise<void> {
    this.offer(item);
    while (!this.#closed && this.length >= this.#highWaterMark) {
      await new Promise<void>((resolve) => this.#producerWakes.push(resolve));
    }
  }

  /** Enqueues without waiting; ignored after close(). */
  offer(item: T): void {
    if (this.#closed) return;
    this.#items.push(item);
    this.#wakeConsumer();
  }

  /** Ends the iteration after the queued items; wakes every waiting producer. */
  close(): void {
    this.#closed = true;
    this.#wakeConsumer();
    this.#wakeProducers();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterating) throw new Error("AsyncQueue supports a single consumer");
    this.#iterating = true;
    try {
      while (true) {
        if (this.length > 0) {
          const item = this.#items[this.#head]!;
          this.#items[this.#head] = undefined as T;
          this.#head++;
          // Compact now and then so the array does not grow without bound.
          if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
            this.#items = this.#items.slice(this.#head);
            this.#head = 0;
          }
          if (this.length < this.#highWaterMark) this.#wakeProducers();
          yield item;
          continue;
        }
        if (this.#closed) return;
        await new Promise<void>((resolve) => (this.#consumerWake = resolve));
      }
    } finally {
      this.#iterating = false;
    }
  }

  #wakeConsumer(): void {
    const wake = this.#consumerWake;
    this.#consumerWake = undefined;
    wake?.();
  }

  #wakeProducers(): void {
    const wakes = this.#producerWakes;
    this.#producerWakes = [];
    for (const wake of wakes) wake();
  }
}
