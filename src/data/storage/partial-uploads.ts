// The cut-off uploads a data server keeps so that their client can resume:
// files under `partial/` named `<key>.<SHA-256 of the bytes held>`, bounded
// in count and bytes (the oldest go first) and expired after a stated time.
// A partial is never content: it is never served, listed or handed over, and
// it becomes content only through the store's normal path, which verifies the
// whole content against the key. A partial is taken (renamed away) by the
// upload that resumes it, so two resumes never share one file.
// Must never build a path from anything but a validated key and a hex digest.

import { readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { isContentKey, type ContentKey } from "../../ring/content-key.ts";
import { ensurePrivateDir } from "../../common/private-files.ts";

export interface PartialLimits {
  /** Partials kept at most (the oldest go first). */
  maxCount: number;
  /** Bytes of partials kept at most. */
  maxBytes: number;
  /** A partial older than this (since its last byte) is removed. */
  ttlMs: number;
}

export const DEFAULT_PARTIAL_LIMITS: PartialLimits = {
  maxCount: 16,
  maxBytes: 2 * 1024 * 1024 * 1024,
  ttlMs: 24 * 60 * 60 * 1000,
};

export interface HeldPartial {
  size: number;
  /** SHA-256 of the bytes held, hex. */
  sha256: string;
}

interface Entry extends HeldPartial {
  key: ContentKey;
  name: string;
  mtimeMs: number;
}

const NAME = /^([0-9a-f]{64})\.([0-9a-f]{64})$/;

export class PartialUploads {
  readonly #dir: string;
  readonly #limits: PartialLimits;
  readonly #now: () => number;

  constructor(dataDir: string, limits: PartialLimits, now: () => number = Date.now) {
    this.#dir = join(dataDir, "partial");
    this.#limits = limits;
    this.#now = now;
  }

  /** Creates the folder and removes what expired while the server was down. */
  async open(): Promise<void> {
    ensurePrivateDir(this.#dir);
    await this.#entries();
  }

  /** The partial held for `key`, if any and not expired. */
  async held(key: ContentKey): Promise<HeldPartial | undefined> {
    const entry = (await this.#entries()).find((candidate) => candidate.key === key);
    return entry && { size: entry.size, sha256: entry.sha256 };
  }

  /**
   * Moves the partial of `key` holding exactly `size` bytes to `path` (the
   * resuming upload's file aside); false when there is none such.
   */
  async take(key: ContentKey, size: number, path: string): Promise<boolean> {
    const entry = (await this.#entries()).find((candidate) => candidate.key === key);
    if (entry?.size !== size) return false;
    try {
      await rename(join(this.#dir, entry.name), path);
      return true;
    } catch {
      return false; // taken by a concurrent resume
    }
  }

  /** Keeps the file at `path` as the partial of `key` (replacing an older one), within the bounds. */
  async keep(key: ContentKey, sha256: string, path: string): Promise<void> {
    if (!isContentKey(key) || !/^[0-9a-f]{64}$/.test(sha256)) return;
    for (const old of (await this.#entries()).filter((entry) => entry.key === key))
      await rm(join(this.#dir, old.name), { force: true });
    await rename(path, join(this.#dir, `${key}.${sha256}`));
    const entries = (await this.#entries()).sort((a, b) => b.mtimeMs - a.mtimeMs);
    let count = 0;
    let bytes = 0;
    for (const entry of entries) {
      count++;
      bytes += entry.size;
      if (count > this.#limits.maxCount || bytes > this.#limits.maxBytes) {
        await rm(join(this.#dir, entry.name), { force: true });
        bytes -= entry.size;
        count--;
      }
    }
  }

  /** Removes whatever is held for `key` (its content is now stored, or was refused). */
  async drop(key: ContentKey): Promise<void> {
    for (const entry of (await this.#entries()).filter((candidate) => candidate.key === key))
      await rm(join(this.#dir, entry.name), { force: true });
  }

  // The live partials; removes expired ones and anything that is not a partial.
  async #entries(): Promise<Entry[]> {
    const live: Entry[] = [];
    for (const name of await readdir(this.#dir)) {
      const path = join(this.#dir, name);
      const match = NAME.exec(name);
      const info = await stat(path).catch(() => undefined);
      if (info === undefined) continue;
      if (!match || !info.isFile() || this.#now() - info.mtimeMs > this.#limits.ttlMs) {
        await rm(path, { force: true, recursive: true });
        continue;
      }
      live.push({
        key: match[1]!,
        sha256: match[2]!,
        name,
        size: info.size,
        mtimeMs: info.mtimeMs,
      });
    }
    return live;
  }
}
