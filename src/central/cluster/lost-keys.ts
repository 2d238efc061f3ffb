// What a forced removal of a data server loses, counted from the albums: the
// distinct content keys (each file's content and its renditions' keys) that
// the ring in force before the removal placed on the server, the albums and
// file entries that reference one of them, and a few of those files' names.
// Only the central server knows every key the system references, so this is
// the count an operator gets even when the removed server never answers.
// Pure: no I/O, no clock; albums are added one at a time (the caller streams
// them from the store), and the result does not depend on their order. Keys
// are capabilities: they are counted here, never returned or printed.

import type { AlbumState } from "../../crdt/index.ts";
import type { Ring, ServerId } from "../../ring/ring.ts";
import { displayName } from "../album-reference.ts";

/** How many file names a report shows. */
export const LOST_FILE_NAMES_SHOWN = 3;

export interface LostKeys {
  /** Distinct content keys referenced by some album and placed on the server. */
  keys: number;
  /** Albums with at least one such key. */
  albums: number;
  /** Files (a name with a content, per album, as listed) with at least one such key. */
  files: number;
  /** Up to LOST_FILE_NAMES_SHOWN of those files as "name (album)", ascending. */
  fileNames: string[];
}

/** Accumulates LostKeys over albums added one at a time. */
export class LostKeyTally {
  readonly #ring: Ring;
  readonly #serverId: ServerId;
  readonly #lost = new Set<string>();
  #albums = 0;
  #files = 0;
  #names: string[] = [];

  /** `ring` is the ring in force before the removal of `serverId`. */
  constructor(ring: Ring, serverId: ServerId) {
    this.#ring = ring;
    this.#serverId = serverId;
  }

  add(album: string, state: AlbumState): void {
    // Every live add counts, not only the one a listing shows: concurrent adds
    // of one file may carry renditions of their own.
    const hitFiles = new Set<string>();
    for (const entry of state.files.values()) {
      const { contentKey, media } = entry;
      let hit = false;
      for (const key of [contentKey, media?.thumbnailKey, media?.previewKey]) {
        if (key === undefined || !this.#onServer(key)) continue;
        this.#lost.add(key);
        hit = true;
      }
      const file = `${entry.name}\0${contentKey}`;
      if (!hit || hitFiles.has(file)) continue;
      hitFiles.add(file);
      this.#keepName(`${entry.name} (${displayName(album)})`);
    }
    this.#files += hitFiles.size;
    if (hitFiles.size > 0) this.#albums++;
  }

  result(): LostKeys {
    return {
      keys: this.#lost.size,
      albums: this.#albums,
      files: this.#files,
      fileNames: [...this.#names],
    };
  }

  // Placed afresh for every reference (a binary search over the tokens)
  // rather than cached: memory then grows with the lost keys only, not with
  // every key the albums reference.
  #onServer(key: string): boolean {
    return this.#ring.owns(this.#serverId, key);
  }

  // The smallest few names, so the report is the same whatever the order of albums.
  #keepName(name: string): void {
    if (this.#names.includes(name)) return;
    const names = this.#names;
    if (names.length === LOST_FILE_NAMES_SHOWN && name >= names[names.length - 1]!) return;
    names.push(name);
    names.sort();
    if (names.length > LOST_FILE_NAMES_SHOWN) names.pop();
  }
}

/** LostKeys of `albums` (name and replica) for the removal of `serverId` from `ring`. */
export function countLostKeys(
  albums: Iterable<{ name: string; state: AlbumState }>,
  ring: Ring,
  serverId: ServerId,
): LostKeys {
  const tally = new LostKeyTally(ring, serverId);
  for (const { name, state } of albums) tally.add(name, state);
  return tally.result();
}
