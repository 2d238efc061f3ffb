// Warms the content cache with thumbnails pages are about to ask for, a few
// at a time (so a page's own requests are not starved), through the
// requesting session's transfer client (verified like every download). The
// queue is bounded: past it, prefetches are dropped — the page then fetches
// on demand as without a prefetch. Never fails anything.
import type { BrowserSession } from "./browser-session.ts";
import type { ContentCache } from "./content-cache.ts";

const CONCURRENT = 4;
const MAX_QUEUED = 512;

export class Prefetcher {
  readonly #cache: ContentCache;
  readonly #queue: { session: BrowserSession; key: string }[] = [];
  #running = 0;

  constructor(cache: ContentCache) {
    this.#cache = cache;
  }

  add(session: BrowserSession, key: string): void {
    if (this.#queue.length >= MAX_QUEUED) return;
    this.#queue.push({ session, key });
    this.#pump();
  }

  #pump(): void {
    while (this.#running < CONCURRENT && this.#queue.length > 0) {
      const { session, key } = this.#queue.shift()!;
      if (session.isClosed) continue;
      this.#running++;
      this.#cache
        .open(key, async (wanted, path) => {
          await session.transfer.download(wanted, path);
        })
        .then(
          (content) => content.release(),
          () => {},
        )
        .finally(() => {
          this.#running--;
          this.#pump();
        });
    }
  }
}
