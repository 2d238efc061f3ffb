// The outgoing queue towards one peer. zeromq.js allows one pending send per
// socket, so messages to a peer go through this queue, in order, one at a
// time; the first send of an idle queue starts in the caller's tick (no added
// latency). A burst larger than ZeroMQ's high-water mark waits here instead of
// being dropped. Must never block anyone and never grow without bound: a send
// that cannot proceed within the send timeout (dead or stuck peer) discards
// what is queued for that peer, and a full queue refuses new messages; the
// session's anti-entropy repairs whatever was discarded.

export interface OutboxSocket {
  send(message: Uint8Array): Promise<void>;
}

export interface PeerOutboxOptions {
  /** Messages waiting here at most (default 10,000). */
  maxQueuedMessages?: number;
  /** Bytes waiting here at most (default 64 MiB). */
  maxQueuedBytes?: number;
  /** Called for each discarded message, with the reason. */
  onDiscard?: (count: number, reason: "full" | "timeout" | "closed") => void;
}

export class PeerOutbox {
  readonly #socket: OutboxSocket;
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  readonly #onDiscard: (count: number, reason: "full" | "timeout" | "closed") => void;
  #queue: Uint8Array[] = [];
  #head = 0;
  #queuedBytes = 0;
  #pumping = false;
  #closed = false;

  constructor(socket: OutboxSocket, options: PeerOutboxOptions = {}) {
    this.#socket = socket;
    this.#maxMessages = options.maxQueuedMessages ?? 10_000;
    this.#maxBytes = options.maxQueuedBytes ?? 64 * 1024 * 1024;
    this.#onDiscard = options.onDiscard ?? (() => undefined);
  }

  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** Queues a message; false when it was refused (queue full or closed). */
  push(message: Uint8Array): boolean {
    if (this.#closed) {
      this.#onDiscard(1, "closed");
      return false;
    }
    if (
      this.queued >= this.#maxMessages ||
      this.#queuedBytes + message.byteLength > this.#maxBytes
    ) {
      this.#onDiscard(1, "full");
      return false;
    }
    this.#queue.push(message);
    this.#queuedBytes += message.byteLength;
    if (!this.#pumping) void this.#pump();
    return true;
  }

  /** Discards everything queued; later pushes are refused. */
  close(): void {
    this.#closed = true;
    this.#discardAll("closed");
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.queued > 0 && !this.#closed) {
        const message = this.#queue[this.#head]!;
        try {
          await this.#socket.send(message);
        } catch {
          // Timed out (peer dead or stuck) or socket closed: drop this peer's backlog.
          this.#discardAll(this.#closed ? "closed" : "timeout");
          continue;
        }
        this.#queue[this.#head] = EMPTY;
        this.#head++;
        this.#queuedBytes -= message.byteLength;
        if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
          this.#queue = this.#queue.slice(this.#head);
          this.#head = 0;
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  #discardAll(reason: "timeout" | "closed"): void {
    const count = this.queued;
    this.#queue = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    if (count > 0) this.#onDiscard(count, reason);
  }
}

const EMPTY = new Uint8Array(0);
