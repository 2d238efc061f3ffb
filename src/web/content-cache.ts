// A bounded on-disk cache of verified content for the web server: each entry
// is one content, named by its key, written only by a verified download (the
// data path checks the SHA-256 before it renames a file into place). When the
// total passes the bound, the least recently used entries that nobody is
// reading go first. The folder is emptied at start, so nothing this process
// did not verify itself is ever served. Never names a key in an error.
import { mkdir, rm, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { AlbumError, ErrorCode } from "../common/album-error.ts";

/** Downloads `key` to `path`, verified (DataTransferClient.download). */
export type VerifiedFetch = (key: string, path: string) => Promise<void>;

interface Entry {
  size: number;
  readers: number;
}

/** A cached content, held open against eviction until release(). */
export interface CachedContent {
  readonly path: string;
  readonly size: number;
  release(): void;
}

export interface ContentCacheOptions {
  dir: string;
  maxBytes: number;
}

export class ContentCache {
  readonly #dir: string;
  readonly #maxBytes: number;
  /** Map order is recency: the first entry is the least recently used. */
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<number>>();
  #totalBytes = 0;

  constructor(options: ContentCacheOptions) {
    this.#dir = options.dir;
    this.#maxBytes = options.maxBytes;
  }

  async start(): Promise<void> {
    await rm(this.#dir, { recursive: true, force: true });
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
  }

  get totalBytes(): number {
    return this.#totalBytes;
  }

  get entryCount(): number {
    return this.#entries.size;
  }

  /** Whether `key` is cached whole (verified) now. */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** The content of `key`, fetched (verified) on a miss; the caller must release() it. */
  async open(key: string, fetch: VerifiedFetch): Promise<CachedContent> {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new AlbumError(ErrorCode.Internal, "bad content key");
    let entry = this.#entries.get(key);
    if (!entry) {
      let loading = this.#inFlight.get(key);
      if (!loading) {
        loading = this.#load(key, fetch).finally(() => this.#inFlight.delete(key));
        this.#inFlight.set(key, loading);
      }
      const size = await loading;
      entry = this.#entries.get(key) ?? this.#insert(key, size);
    }
    // Touch: move to the most recently used end.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    entry.readers++;
    const held = entry;
    let released = false;
    const content: CachedContent = {
      path: join(this.#dir, key),
      size: held.size,
      release: () => {
        if (released) return;
        released = true;
        held.readers--;
        void this.#evict();
      },
    };
    void this.#evict();
    return content;
  }

  async #load(key: string, fetch: VerifiedFetch): Promise<number> {
    const path = join(this.#dir, key);
    await fetch(key, path);
    const { size } = await stat(path);
    this.#insert(key, size);
    return size;
  }

  #insert(key: string, size: number): Entry {
    const entry = { size, readers: 0 };
    this.#entries.set(key, entry);
    this.#totalBytes += size;
    return entry;
  }

  async #evict(): Promise<void> {
    for (const [key, entry] of this.#entries) {
      if (this.#totalBytes <= this.#maxBytes) return;
      if (entry.readers > 0) continue;
      this.#entries.delete(key);
      this.#totalBytes -= entry.size;
      await unlink(join(this.#dir, key)).catch(() => {});
    }
  }
}
