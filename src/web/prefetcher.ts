// Warms the content cache with thumbnails pages are about to ask for, a few
// at a time (so a page's own requests are not starved), through the
// requesting session's transfer client (verified like every download). The
// queue is bounded: past it, prefetches are dropped — the page then fetches
// on demand as without a prefetch. Never fails anything: each add resolves
// when its content is cached, dropped or failed.
import type { BrowserSession } from "./browser-session.ts";
import type { ContentCache } from "./content-cache.ts";

/** Thumbnails are small: the wait is the round trip, so several go at once. */
const CONCURRENT = 8;
const MAX_QUEUED = 512;

interface Queued {
  session: BrowserSession;
  key: string;
  done: () => void;
}

export class Prefetcher {
  readonly #cache: ContentCache;
  readonly #queue: Queued[] = [];
  #running = 0;

  constructor(cache: ContentCache) {
    this.#cache = cache;
  }

  add(session: BrowserSession, key: string): Promise<void> {
    if (this.#queue.length >= MAX_QUEUED) return Promise.resolve();
    return new Promise((done) => {
      this.#queue.push({ session, key, done });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#running < CONCURRENT && this.#queue.length > 0) {
      const { session, key, done } = this.#queue.shift()!;
      if (session.isClosed) {
        done();
        continue;
      }
      this.#running++;
      this.#cache
        .open(key, session.fillCache)
        .then(
          (content) => content.release(),
          () => {},
        )
        .finally(() => {
          this.#running--;
          done();
          this.#pump();
        });
    }
  }
}
