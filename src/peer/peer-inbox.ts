// What the mesh has received and the session engine has not handled yet, kept
// per sending peer and handed out round robin, so one peer that floods us
// delays no one else: its own queue fills up (bounded in messages and bytes)
// and its excess is dropped, while every other peer's next message is at most
// one message per peer away. The consumer gets control back to the event loop
// between batches, so timers (the central connection's heartbeat among them)
// keep running under any load. Never blocks a producer; never grows without
// bound; close() ends the iteration.
import type { SessionSlot } from "./vector-clock.ts";

export interface PeerInboxOptions {
  /** Messages held per peer (default 1000). */
  maxMessagesPerPeer?: number;
  /** Bytes held per peer (default 16 MiB). */
  maxBytesPerPeer?: number;
  /** Messages handed out before the consumer yields to the event loop (default 16). */
  batch?: number;
}

interface PeerQueue<T> {
  items: { item: T; bytes: number }[];
  head: number;
  bytes: number;
}

export class PeerInbox<T> implements AsyncIterable<T> {
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  readonly #batch: number;
  readonly #queues = new Map<SessionSlot, PeerQueue<T>>();
  /** Peers with something queued, in turn order. */
  #ready: SessionSlot[] = [];
  #closed = false;
  #wake: (() => void) | undefined;
  /** Messages dropped because their sender's queue was full. */
  dropped = 0;

  constructor(options: PeerInboxOptions = {}) {
    this.#maxMessages = options.maxMessagesPerPeer ?? 1000;
    this.#maxBytes = options.maxBytesPerPeer ?? 16 * 1024 * 1024;
    this.#batch = options.batch ?? 16;
  }

  /** Queues a message of `from`; false (and dropped) when that peer's budget is used up. */
  offer(from: SessionSlot, item: T, bytes: number): boolean {
    if (this.#closed) return false;
    let queue = this.#queues.get(from);
    if (!queue) {
      queue = { items: [], head: 0, bytes: 0 };
      this.#queues.set(from, queue);
    }
    const held = queue.items.length - queue.head;
    if (held >= this.#maxMessages || (held > 0 && queue.bytes + bytes > this.#maxBytes)) {
      this.dropped++;
      return false;
    }
    if (held === 0) this.#ready.push(from);
    queue.items.push({ item, bytes });
    queue.bytes += bytes;
    this.#wake?.();
    return true;
  }

  /** Drops what a peer had queued (it left, or was removed). */
  forget(from: SessionSlot): void {
    this.#queues.delete(from);
    this.#ready = this.#ready.filter((slot) => slot !== from);
  }

  /** Messages held for one peer. */
  held(from: SessionSlot): number {
    const queue = this.#queues.get(from);
    return queue ? queue.items.length - queue.head : 0;
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    let sinceYield = 0;
    for (;;) {
      const next = this.#take();
      if (next !== undefined) {
        yield next.item;
        if (++sinceYield >= this.#batch) {
          sinceYield = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        continue;
      }
      if (this.#closed) return;
      sinceYield = 0;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }

  #take(): { item: T } | undefined {
    const from = this.#ready.shift();
    if (from === undefined) return undefined;
    const queue = this.#queues.get(from)!;
    const entry = queue.items[queue.head]!;
    queue.items[queue.head++] = undefined as never;
    queue.bytes -= entry.bytes;
    if (queue.head === queue.items.length) {
      queue.items = [];
      queue.head = 0;
    } else {
      this.#ready.push(from);
    }
    return entry;
  }
}
