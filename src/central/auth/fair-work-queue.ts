// Runs expensive work (password hashes) with bounded concurrency, taking
// turns between keys (source addresses): with a hundred hashes queued from one
// address and one from another, the other waits for at most one turn, not a
// hundred. Work whose caller went away (its signal aborted) is dropped before
// it starts. Each key may have a bounded number of items waiting, so the
// queue's memory is bounded by the number of keys that have work.
// It never runs more than `concurrency` items at once and never reorders the
// items of one key.
import { AlbumError, ErrorCode } from "../../common/album-error.ts";

interface Item {
  run(): void;
  drop(error: AlbumError): void;
  signal: AbortSignal;
}

export class FairWorkQueue {
  private readonly waiting = new Map<string, Item[]>();
  private running = 0;

  constructor(
    readonly concurrency: number,
    readonly maxWaitingPerKey = 256,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    }
  }

  get runningCount(): number {
    return this.running;
  }

  get waitingCount(): number {
    let count = 0;
    for (const items of this.waiting.values()) count += items.length;
    return count;
  }

  run<T>(key: string, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    if (signal.aborted) return Promise.reject(gone());
    const items = this.waiting.get(key) ?? [];
    if (items.length >= this.maxWaitingPerKey) {
      return Promise.reject(
        new AlbumError(ErrorCode.ResourceExhausted, "too many requests waiting from this address"),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        const list = this.waiting.get(key);
        const at = list?.indexOf(item) ?? -1;
        if (at < 0) return;
        list!.splice(at, 1);
        if (list!.length === 0) this.waiting.delete(key);
        reject(gone());
      };
      const item: Item = {
        signal,
        run: () => {
          signal.removeEventListener("abort", onAbort);
          this.running++;
          work()
            .then(resolve, reject)
            .finally(() => {
              this.running--;
              this.pump();
            });
        },
        drop: (error) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      signal.addEventListener("abort", onAbort, { once: true });
      items.push(item);
      this.waiting.set(key, items);
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.concurrency && this.waiting.size > 0) {
      // Map order is the turn order: take the first key's first item and
      // move that key to the back.
      const [key, items] = this.waiting.entries().next().value!;
      const item = items.shift()!;
      this.waiting.delete(key);
      if (items.length > 0) this.waiting.set(key, items);
      if (item.signal.aborted) item.drop(gone());
      else item.run();
    }
  }
}

function gone(): AlbumError {
  return new AlbumError(ErrorCode.Unavailable, "the connection closed before its turn");
}
