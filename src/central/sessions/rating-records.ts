// The rate-once records of the central server, read as tallies: how many users
// rated each file of an album and the sum of their stars. The check of every
// hand-off (src/crdt/delta-audit.ts) and the editors' check of every remote
// delta compare rating aggregates against these numbers. Writes go through
// CentralStore.recordRating; this adds the stars to the same row. Never
// changes a recorded rating.
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import type { CentralStore } from "../central-store.ts";
import type { RatingTally } from "../../crdt/delta-audit.ts";
import { MAX_STARS } from "../../crdt/index.ts";
import { prepared } from "./prepared.ts";

const FILE_ID = /^[0-9a-f]{16}$/;

/** Refuses (InvalidArgument) a malformed file id or stars out of 0..MAX_STARS. */
export function checkRating(fileId: string, stars: number): void {
  if (!FILE_ID.test(fileId)) {
    throw new AlbumError(ErrorCode.InvalidArgument, "malformed file id");
  }
  if (!Number.isInteger(stars) || stars < 0 || stars > MAX_STARS) {
    throw new AlbumError(ErrorCode.InvalidArgument, `a rating has 0 to ${MAX_STARS} stars`);
  }
}

export class RatingRecords {
  readonly #store: CentralStore;

  constructor(store: CentralStore) {
    this.#store = store;
  }

  /** Records the user's rating with its stars; false if they had rated the file already. */
  record(album: string, user: string, fileId: string, stars: number): boolean {
    const db = this.#store.database;
    return db.transaction(() => {
      if (!this.#store.recordRating(album, user, fileId)) return false;
      prepared(db, "UPDATE ratings SET stars = ? WHERE album = ? AND user = ? AND file_id = ?").run(
        stars,
        album,
        user,
        fileId,
      );
      return true;
    })();
  }

  tally(album: string, fileId: string): RatingTally {
    const row = prepared(
      this.#store.database,
      `SELECT COUNT(*) AS raters, COALESCE(SUM(COALESCE(stars, ${MAX_STARS})), 0) AS stars
         FROM ratings WHERE album = ? AND file_id = ?`,
    ).get(album, fileId) as { raters: number; stars: number };
    return { raters: row.raters, stars: row.stars };
  }

  /** Every rated file of the album. */
  tallies(album: string): Map<string, RatingTally> {
    const rows = prepared(
      this.#store.database,
      `SELECT file_id AS fileId, COUNT(*) AS raters,
                SUM(COALESCE(stars, ${MAX_STARS})) AS stars
         FROM ratings WHERE album = ? GROUP BY file_id`,
    ).all(album) as { fileId: string; raters: number; stars: number }[];
    return new Map(rows.map((row) => [row.fileId, { raters: row.raters, stars: row.stars }]));
  }
}
