// The schema of the central server's SQLite database: the ordered migrations
// and the code that applies them. The version is PRAGMA user_version; a
// database newer than this server is refused, never downgraded. Never edit a
// shipped migration: add one.
import type Database from "better-sqlite3";
import { AlbumError, ErrorCode } from "../common/album-error.ts";

type Migration = (db: Database.Database) => void;

const MIGRATIONS: readonly Migration[] = [
  (db) => {
    db.exec(`
      CREATE TABLE users (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE albums (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        -- The album's metadata replica (encoded CRDT state), owned by src/crdt.
        replica BLOB
      );
      -- Index of the member group held in the replica, so "which albums am I
      -- in" needs no decoding. Kept in the same transaction as the replica.
      CREATE TABLE album_members (
        album TEXT NOT NULL COLLATE NOCASE REFERENCES albums(name),
        user TEXT NOT NULL COLLATE NOCASE,
        PRIMARY KEY (album, user)
      ) WITHOUT ROWID;
      CREATE INDEX album_members_by_user ON album_members(user, album);
    `);
  },
  (db) => {
    db.exec(`
      -- 1 while an editing session of the album is open. Found set at start
      -- (the server stopped mid-session), the album is compacted before the
      -- next session, so no slot of the lost session is ever reused.
      ALTER TABLE albums ADD COLUMN session_open INTEGER NOT NULL DEFAULT 0;
      -- Ratings are once per user and file, ever: recorded here before the
      -- editor applies them to the replica.
      CREATE TABLE ratings (
        album TEXT NOT NULL COLLATE NOCASE REFERENCES albums(name),
        user TEXT NOT NULL COLLATE NOCASE,
        file_id TEXT NOT NULL,
        rated_at INTEGER NOT NULL,
        PRIMARY KEY (album, user, file_id)
      ) WITHOUT ROWID;
    `);
  },
  (db) => {
    db.exec(`
      -- Hand-offs of an open editing session, appended in arrival order: the
      -- replica column plus these deltas is the album. A hand-off costs the
      -- size of the edit, not of the album; a checkpoint folds the log into
      -- the replica (and empties it) from time to time and when the session ends.
      CREATE TABLE album_log (
        id INTEGER PRIMARY KEY,
        album TEXT NOT NULL COLLATE NOCASE REFERENCES albums(name),
        delta BLOB NOT NULL
      );
      CREATE INDEX album_log_by_album ON album_log(album, id);
    `);
  },
  (db) => {
    db.exec(`
      -- Resumable logins: only the SHA-256 of each token is kept.
      CREATE TABLE login_tokens (
        token_hash BLOB PRIMARY KEY,
        user TEXT NOT NULL COLLATE NOCASE,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX login_tokens_by_expiry ON login_tokens(expires_at);
      -- The slot table of each open editing session, written before a slot
      -- is handed out, so a restarted server keeps the epoch, lets each
      -- editor reclaim exactly its own slot and never hands out a used one.
      CREATE TABLE session_slots (
        album TEXT NOT NULL COLLATE NOCASE REFERENCES albums(name),
        slot INTEGER NOT NULL,
        epoch INTEGER NOT NULL,
        user TEXT NOT NULL COLLATE NOCASE,
        -- 'held', 'reusable' (left cleanly) or 'retired' (vanished).
        state TEXT NOT NULL,
        resume_key_hash BLOB NOT NULL,
        address TEXT,
        PRIMARY KEY (album, slot)
      ) WITHOUT ROWID;
      -- Chat kept by the server, bounded per album; (epoch, slot, seq) makes
      -- every message stored once, the id keeps a causal order.
      CREATE TABLE chat_messages (
        id INTEGER PRIMARY KEY,
        album TEXT NOT NULL COLLATE NOCASE REFERENCES albums(name),
        epoch INTEGER NOT NULL,
        slot INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        sender TEXT NOT NULL,
        text TEXT NOT NULL,
        sent_at INTEGER NOT NULL,
        stored_at INTEGER NOT NULL,
        UNIQUE (album, epoch, slot, seq)
      );
      CREATE INDEX chat_messages_by_album ON chat_messages(album, id);
    `);
  },
  (db) => {
    db.exec(`
      -- The stars of each rating, recorded with it, so the server can refuse a
      -- replica that claims more stars than were given. NULL for ratings
      -- recorded before (they count as the maximum).
      ALTER TABLE ratings ADD COLUMN stars INTEGER;
      -- What the server vouches for in an open editing session, so a
      -- restarted server resuming it vouches for the same: its random token
      -- and highest slot, and each slot holder's peer public key (NULL once
      -- the holder left; the row then names a past holder). Deleted when the
      -- session ends.
      CREATE TABLE session_trust (
        album TEXT NOT NULL COLLATE NOCASE REFERENCES albums(name),
        epoch INTEGER NOT NULL,
        token BLOB NOT NULL,
        highest_slot INTEGER NOT NULL,
        PRIMARY KEY (album, epoch)
      ) WITHOUT ROWID;
      CREATE TABLE session_keys (
        album TEXT NOT NULL COLLATE NOCASE REFERENCES albums(name),
        epoch INTEGER NOT NULL,
        slot INTEGER NOT NULL,
        user TEXT NOT NULL COLLATE NOCASE,
        public_key BLOB,
        PRIMARY KEY (album, epoch, slot, user)
      ) WITHOUT ROWID;
    `);
  },
  (db) => {
    db.exec(`
      -- The highest chat number a slot's holders used in the session, as the
      -- server knows it (written when a holder leaves cleanly): the slot's
      -- next holder numbers its chat above it, even if it reaches no peer.
      ALTER TABLE session_slots ADD COLUMN chat_seq INTEGER NOT NULL DEFAULT 0;
    `);
  },
];

/** The schema version of `db` (0 for a new file). */
export function schemaVersionOf(db: Database.Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

/** Brings `db` up to the newest schema, one transaction per migration. */
export function migrate(db: Database.Database): void {
  const current = schemaVersionOf(db);
  if (current > MIGRATIONS.length) {
    throw new AlbumError(
      ErrorCode.FailedPrecondition,
      `the database has schema version ${current}, newer than this server (${MIGRATIONS.length})`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      MIGRATIONS[version]!(db);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
