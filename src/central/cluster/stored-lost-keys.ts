// The I/O side of counting what a forced removal loses: streams every stored
// album (its replica and the log of an open session, each decoded once) from
// the central store into a LostKeyTally, a batch at a time, yielding to the
// event loop between batches so the central server keeps serving while a
// large store is read. An album whose replica cannot be decoded is skipped and
// counted, never fatal. It never writes to the store and never logs a key.

import { setImmediate as nextTurn } from "node:timers/promises";
import { AlbumError } from "../../common/album-error.ts";
import type { Logger } from "../../common/logger.ts";
import type { Ring, ServerId } from "../../ring/ring.ts";
import { replayAlbum } from "../album-replica.ts";
import type { CentralStore } from "../central-store.ts";
import { LostKeyTally, type LostKeys } from "./lost-keys.ts";

/** What the coordinator reports for a forced removal. */
export interface LostKeysReport extends LostKeys {
  /** Stored albums whose replica could not be decoded (not counted). */
  unreadableAlbums: number;
}

/** Counts the keys of the server the ring before its removal placed on it. */
export type LostKeysCounter = (ring: Ring, serverId: ServerId) => Promise<LostKeysReport>;

// Albums read per batch: enough to amortise the query, few enough that a
// batch of large replicas holds the event loop only briefly.
const ALBUMS_PER_BATCH = 32;

export function storedLostKeysCounter(store: CentralStore, logger: Logger): LostKeysCounter {
  return async (ring, serverId) => {
    const tally = new LostKeyTally(ring, serverId);
    let unreadableAlbums = 0;
    for (let afterId = 0; ;) {
      const batch = store.albumsAfter(afterId, ALBUMS_PER_BATCH);
      if (batch.length === 0) break;
      for (const { id, name, replica, log } of batch) {
        afterId = id;
        try {
          tally.add(name, replayAlbum(replica, log));
        } catch (error) {
          unreadableAlbums++;
          logger.warn(
            { album: name, error: AlbumError.from(error).toLine() },
            "counting lost keys: an album's replica cannot be decoded; it is not counted",
          );
        }
      }
      await nextTurn();
    }
    return { ...tally.result(), unreadableAlbums };
  };
}
