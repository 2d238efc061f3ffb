// The durable slot table of open editing sessions (SQLite table
// session_slots): one row per slot ever handed out in the album's current
// epoch, written before the slot is handed out or changes state. A restarted
// server rebuilds each open session from it (docs/sessions.md, "Resuming").
// It must never be written after the reply that depends on it.
import type Database from "better-sqlite3";
import type { SlotRecord } from "./session-slots.ts";
import { prepared } from "./prepared.ts";

export class SlotTableStore {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  /** Albums left with an open session by the last run of the server. */
  openAlbums(): string[] {
    return (
      prepared(this.#db, "SELECT name FROM albums WHERE session_open = 1 ORDER BY name").all() as {
        name: string;
      }[]
    ).map((row) => row.name);
  }

  /** The slot table of the album's session of `epoch` (empty if none was recorded). */
  load(album: string, epoch: number): SlotRecord[] {
    const rows = prepared(
      this.#db,
      `SELECT slot, user, state, resume_key_hash AS resumeKeyHash, address, chat_seq AS chatSeq
         FROM session_slots WHERE album = ? AND epoch = ? ORDER BY slot`,
    ).all(album, epoch) as {
      slot: number;
      user: string;
      state: SlotRecord["state"];
      resumeKeyHash: Buffer;
      address: string | null;
      chatSeq: number;
    }[];
    return rows.map((row) => ({
      slot: row.slot,
      user: row.user,
      state: row.state,
      resumeKeyHash: row.resumeKeyHash.toString("hex"),
      address: row.address ?? undefined,
      chatSeq: row.chatSeq,
    }));
  }

  /** Records a slot's state (fsynced when this returns). */
  save(album: string, epoch: number, record: SlotRecord): void {
    prepared(
      this.#db,
      `INSERT INTO session_slots
           (album, slot, epoch, user, state, resume_key_hash, address, chat_seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (album, slot) DO UPDATE SET epoch = excluded.epoch, user = excluded.user,
           state = excluded.state, resume_key_hash = excluded.resume_key_hash,
           address = excluded.address, chat_seq = excluded.chat_seq`,
    ).run(
      album,
      record.slot,
      epoch,
      record.user,
      record.state,
      Buffer.from(record.resumeKeyHash, "hex"),
      record.address ?? null,
      record.chatSeq,
    );
  }

  /** The session ended (the album moved to the next epoch): its slot table goes. */
  clear(album: string): void {
    prepared(this.#db, "DELETE FROM session_slots WHERE album = ?").run(album);
  }
}
