// Durable storage of the central server: users, albums (their metadata replica)
// and album membership, in SQLite. WAL mode with synchronous=FULL: a call that
// returned has been fsynced, so the server may acknowledge it and a kill -9
// right after loses nothing. The schema is versioned (PRAGMA user_version) and
// upgraded by the ordered migrations below; never edit a shipped migration.
import Database from "better-sqlite3";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { ensurePrivateDir, makePrivate } from "../common/private-files.ts";

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
];

export interface UserRecord {
  name: string;
  passwordHash: string;
}

export interface AlbumRecord {
  /** Stable numeric identity of the album. */
  id: number;
  name: string;
  createdBy: string;
  replica: Uint8Array | null;
  sessionOpen: boolean;
}

export class CentralStore {
  private readonly db: Database.Database;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  static open(dir: string): CentralStore {
    ensurePrivateDir(dir);
    const file = join(dir, "central.sqlite3");
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (error) {
      throw AlbumError.from(error, ErrorCode.FailedPrecondition);
    }
    // Password hashes and every album's content keys: owner-only, whatever the
    // umask. SQLite gives its -wal and -shm files the database file's mode;
    // ones left by an older version are tightened too.
    for (const path of [file, `${file}-wal`, `${file}-shm`])
      if (existsSync(path)) makePrivate(path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 5000");
    const store = new CentralStore(db);
    store.migrate();
    return store;
  }

  /** Exposed so sibling components (sessions, cluster) can add their own tables. */
  get database(): Database.Database {
    return this.db;
  }

  get schemaVersion(): number {
    return this.db.pragma("user_version", { simple: true }) as number;
  }

  private migrate(): void {
    const current = this.schemaVersion;
    if (current > MIGRATIONS.length) {
      throw new AlbumError(
        ErrorCode.FailedPrecondition,
        `the database has schema version ${current}, newer than this server (${MIGRATIONS.length})`,
      );
    }
    for (let version = current; version < MIGRATIONS.length; version++) {
      this.db.transaction(() => {
        MIGRATIONS[version]!(this.db);
        this.db.pragma(`user_version = ${version + 1}`);
      })();
    }
  }

  close(): void {
    this.db.close();
  }

  findUser(name: string): UserRecord | undefined {
    const row = this.db
      .prepare("SELECT name, password_hash AS passwordHash FROM users WHERE name = ?")
      .get(name) as UserRecord | undefined;
    return row;
  }

  /** Inserts a user; AlreadyExists if the name (case-insensitively) is taken. */
  insertUser(name: string, passwordHash: string): void {
    try {
      this.db
        .prepare("INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)")
        .run(name, passwordHash, Date.now());
    } catch (error) {
      if ((error as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
        throw new AlbumError(ErrorCode.AlreadyExists, `the user name '${name}' is taken`);
      }
      throw error;
    }
  }

  findAlbum(name: string): AlbumRecord | undefined {
    const row = this.db
      .prepare(
        `SELECT rowid AS id, name, created_by AS createdBy, replica, session_open AS sessionOpen
         FROM albums WHERE name = ?`,
      )
      .get(name) as (Omit<AlbumRecord, "sessionOpen"> & { sessionOpen: number }) | undefined;
    return row && { ...row, sessionOpen: row.sessionOpen !== 0 };
  }

  /** Creates an album with its initial replica and member index, atomically. */
  insertAlbum(
    name: string,
    createdBy: string,
    replica: Uint8Array | null,
    members: readonly string[],
  ): void {
    const insert = this.db.transaction(() => {
      this.db
        .prepare("INSERT INTO albums (name, created_by, created_at, replica) VALUES (?, ?, ?, ?)")
        .run(name, createdBy, Date.now(), replica === null ? null : Buffer.from(replica));
      this.replaceMembers(name, members);
    });
    try {
      insert();
    } catch (error) {
      if ((error as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
        throw new AlbumError(ErrorCode.AlreadyExists, `an album named '${name}' already exists`);
      }
      throw error;
    }
  }

  /**
   * Appends a hand-off of an open session to the album's log, with the new
   * member index when the members changed, in one transaction.
   */
  appendAlbumDelta(name: string, delta: Uint8Array, members?: readonly string[]): void {
    this.db.transaction(() => {
      this.db
        .prepare("INSERT INTO album_log (album, delta) VALUES (?, ?)")
        .run(name, Buffer.from(delta));
      if (members) this.replaceMembers(name, members);
    })();
  }

  /**
   * Up to `limit` albums with a stored replica whose id is above `afterId`, by
   * id, each with its log: a caller streams over every album a batch at a
   * time. A batch is read in one transaction, so a replica and its log agree
   * (no checkpoint falls between them); no statement stays open between
   * batches, so the store stays usable meanwhile.
   */
  albumsAfter(
    afterId: number,
    limit: number,
  ): { id: number; name: string; replica: Uint8Array; log: Uint8Array[] }[] {
    return this.db.transaction(() =>
      (
        this.db
          .prepare(
            `SELECT rowid AS id, name, replica FROM albums
             WHERE rowid > ? AND replica IS NOT NULL ORDER BY rowid LIMIT ?`,
          )
          .all(afterId, limit) as { id: number; name: string; replica: Uint8Array }[]
      ).map((album) => ({ ...album, log: this.albumLog(album.name) })),
    )();
  }

  /** The album's logged hand-offs since the last checkpoint, oldest first. */
  albumLog(name: string): Uint8Array[] {
    return (
      this.db.prepare("SELECT delta FROM album_log WHERE album = ? ORDER BY id").all(name) as {
        delta: Buffer;
      }[]
    ).map((row) => row.delta);
  }

  /**
   * Stores the whole replica, its member index and whether an editing session
   * is open, and empties the album's log, in one transaction.
   */
  checkpointAlbum(
    name: string,
    replica: Uint8Array,
    members: readonly string[],
    sessionOpen: boolean,
  ): void {
    this.db.transaction(() => {
      const result = this.db
        .prepare("UPDATE albums SET replica = ?, session_open = ? WHERE name = ?")
        .run(Buffer.from(replica), sessionOpen ? 1 : 0, name);
      if (result.changes === 0)
        throw new AlbumError(ErrorCode.NotFound, `no album named '${name}'`);
      this.replaceMembers(name, members);
      this.db.prepare("DELETE FROM album_log WHERE album = ?").run(name);
    })();
  }

  private replaceMembers(album: string, members: readonly string[]): void {
    this.db.prepare("DELETE FROM album_members WHERE album = ?").run(album);
    const insert = this.db.prepare(
      "INSERT OR IGNORE INTO album_members (album, user) VALUES (?, ?)",
    );
    for (const member of members) insert.run(album, member);
  }

  isMember(album: string, user: string): boolean {
    return (
      this.db
        .prepare("SELECT 1 FROM album_members WHERE album = ? AND user = ?")
        .get(album, user) !== undefined
    );
  }

  /** Records that `user` rated the file; false if they already had. */
  recordRating(album: string, user: string, fileId: string): boolean {
    const result = this.db
      .prepare("INSERT OR IGNORE INTO ratings (album, user, file_id, rated_at) VALUES (?, ?, ?, ?)")
      .run(album, user, fileId, Date.now());
    return result.changes === 1;
  }

  ratedFileIds(album: string, user: string): string[] {
    return (
      this.db
        .prepare("SELECT file_id AS fileId FROM ratings WHERE album = ? AND user = ? ORDER BY 1")
        .all(album, user) as { fileId: string }[]
    ).map((row) => row.fileId);
  }

  albumsOf(user: string): { name: string; memberCount: number }[] {
    return this.db
      .prepare(
        `SELECT a.name AS name, (SELECT COUNT(*) FROM album_members m2 WHERE m2.album = a.name) AS memberCount
         FROM album_members m JOIN albums a ON a.name = m.album
         WHERE m.user = ? ORDER BY a.name`,
      )
      .all(user) as { name: string; memberCount: number }[];
  }

  /**
   * The albums shown as `displayName`: canonical name `displayName` or
   * `<creator>/displayName` (see album-reference.ts), case-insensitively.
   */
  albumsNamed(displayName: string): { name: string; createdBy: string }[] {
    return this.db
      .prepare(
        `SELECT name, created_by AS createdBy FROM albums
         WHERE name = @name OR substr(name, instr(name, '/') + 1) = @name COLLATE NOCASE
         ORDER BY rowid`,
      )
      .all({ name: displayName }) as { name: string; createdBy: string }[];
  }
}
