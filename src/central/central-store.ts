// Durable storage of the central server: users, albums (their metadata replica)
// and album membership, in SQLite. WAL mode with synchronous=FULL: a call that
// returned has been fsynced, so the server may acknowledge it and a kill -9
// right after loses nothing. The schema and its migrations are in
// central-schema.ts. It never decides who may do what: callers check that.
import Database from "better-sqlite3";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { ensurePrivateDir, makePrivate } from "../common/private-files.ts";
import { migrate, schemaVersionOf } from "./central-schema.ts";

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

type AlbumRow = Omit<AlbumRecord, "sessionOpen"> & { sessionOpen: number };

/**
 * Every statement the store runs, prepared once when it opens (after the
 * migrations, so the tables exist): preparing parses and plans the SQL, which
 * cost more than running most of these did.
 */
function prepareStatements(db: Database.Database) {
  return {
    findUser: db.prepare<[string], UserRecord>(
      "SELECT name, password_hash AS passwordHash FROM users WHERE name = ?",
    ),
    insertUser: db.prepare<[string, string, number]>(
      "INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)",
    ),
    findAlbum: db.prepare<[string], AlbumRow>(
      `SELECT rowid AS id, name, created_by AS createdBy, replica, session_open AS sessionOpen
       FROM albums WHERE name = ?`,
    ),
    insertAlbum: db.prepare<[string, string, number, Buffer | null]>(
      "INSERT INTO albums (name, created_by, created_at, replica) VALUES (?, ?, ?, ?)",
    ),
    appendLog: db.prepare<[string, Buffer]>("INSERT INTO album_log (album, delta) VALUES (?, ?)"),
    albumsAfter: db.prepare<[number, number], { id: number; name: string; replica: Uint8Array }>(
      `SELECT rowid AS id, name, replica FROM albums
       WHERE rowid > ? AND replica IS NOT NULL ORDER BY rowid LIMIT ?`,
    ),
    albumLog: db.prepare<[string], { delta: Buffer }>(
      "SELECT delta FROM album_log WHERE album = ? ORDER BY id",
    ),
    storeReplica: db.prepare<[Buffer, number, string]>(
      "UPDATE albums SET replica = ?, session_open = ? WHERE name = ?",
    ),
    clearLog: db.prepare<[string]>("DELETE FROM album_log WHERE album = ?"),
    clearMembers: db.prepare<[string]>("DELETE FROM album_members WHERE album = ?"),
    addMember: db.prepare<[string, string]>(
      "INSERT OR IGNORE INTO album_members (album, user) VALUES (?, ?)",
    ),
    isMember: db.prepare<[string, string]>(
      "SELECT 1 FROM album_members WHERE album = ? AND user = ?",
    ),
    recordRating: db.prepare<[string, string, string, number]>(
      "INSERT OR IGNORE INTO ratings (album, user, file_id, rated_at) VALUES (?, ?, ?, ?)",
    ),
    ratedFileIds: db.prepare<[string, string], { fileId: string }>(
      "SELECT file_id AS fileId FROM ratings WHERE album = ? AND user = ? ORDER BY 1",
    ),
    albumsOf: db.prepare<[string], { name: string; memberCount: number }>(
      `SELECT a.name AS name, (SELECT COUNT(*) FROM album_members m2 WHERE m2.album = a.name) AS memberCount
       FROM album_members m JOIN albums a ON a.name = m.album
       WHERE m.user = ? ORDER BY a.name`,
    ),
    albumsNamed: db.prepare<[{ name: string }], { name: string; createdBy: string }>(
      `SELECT name, created_by AS createdBy FROM albums
       WHERE name = @name OR substr(name, instr(name, '/') + 1) = @name COLLATE NOCASE
       ORDER BY rowid`,
    ),
  };
}

export class CentralStore {
  private readonly db: Database.Database;
  readonly #sql: ReturnType<typeof prepareStatements>;
  // The multi-statement writes, each wrapped in a transaction once.
  readonly #insertAlbum: (
    name: string,
    createdBy: string,
    replica: Uint8Array | null,
    members: readonly string[],
  ) => void;
  readonly #appendAlbumDelta: (
    name: string,
    delta: Uint8Array,
    members?: readonly string[],
  ) => void;
  readonly #checkpointAlbum: (
    name: string,
    replica: Uint8Array,
    members: readonly string[],
    sessionOpen: boolean,
  ) => void;
  readonly #albumsAfter: (
    afterId: number,
    limit: number,
  ) => { id: number; name: string; replica: Uint8Array; log: Uint8Array[] }[];

  private constructor(db: Database.Database) {
    this.db = db;
    const sql = prepareStatements(db);
    this.#sql = sql;
    const replaceMembers = (album: string, members: readonly string[]): void => {
      sql.clearMembers.run(album);
      for (const member of members) sql.addMember.run(album, member);
    };
    this.#insertAlbum = db.transaction((name, createdBy, replica, members) => {
      sql.insertAlbum.run(
        name,
        createdBy,
        Date.now(),
        replica === null ? null : Buffer.from(replica),
      );
      replaceMembers(name, members);
    });
    this.#appendAlbumDelta = db.transaction((name, delta, members) => {
      sql.appendLog.run(name, Buffer.from(delta));
      if (members) replaceMembers(name, members);
    });
    this.#checkpointAlbum = db.transaction((name, replica, members, sessionOpen) => {
      const result = sql.storeReplica.run(Buffer.from(replica), sessionOpen ? 1 : 0, name);
      if (result.changes === 0)
        throw new AlbumError(ErrorCode.NotFound, `no album named '${name}'`);
      replaceMembers(name, members);
      sql.clearLog.run(name);
    });
    this.#albumsAfter = db.transaction((afterId, limit) =>
      sql.albumsAfter
        .all(afterId, limit)
        .map((album) => ({ ...album, log: this.albumLog(album.name) })),
    );
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
    try {
      // Password hashes and every album's content keys: owner-only, whatever the
      // umask. SQLite gives its -wal and -shm files the database file's mode;
      // ones left by an older version are tightened too.
      for (const path of [file, `${file}-wal`, `${file}-shm`])
        if (existsSync(path)) makePrivate(path);
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      db.pragma("foreign_keys = ON");
      db.pragma("busy_timeout = 5000");
      migrate(db);
      return new CentralStore(db);
    } catch (error) {
      // A store that cannot be used must not keep its file open (and locked).
      db.close();
      throw error;
    }
  }

  /** Exposed so sibling components (sessions, cluster) can add their own tables. */
  get database(): Database.Database {
    return this.db;
  }

  get schemaVersion(): number {
    return schemaVersionOf(this.db);
  }

  close(): void {
    this.db.close();
  }

  findUser(name: string): UserRecord | undefined {
    return this.#sql.findUser.get(name);
  }

  /** Inserts a user; AlreadyExists if the name (case-insensitively) is taken. */
  insertUser(name: string, passwordHash: string): void {
    try {
      this.#sql.insertUser.run(name, passwordHash, Date.now());
    } catch (error) {
      if ((error as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
        throw new AlbumError(ErrorCode.AlreadyExists, `the user name '${name}' is taken`);
      }
      throw error;
    }
  }

  findAlbum(name: string): AlbumRecord | undefined {
    const row = this.#sql.findAlbum.get(name);
    return row && { ...row, sessionOpen: row.sessionOpen !== 0 };
  }

  /** Creates an album with its initial replica and member index, atomically. */
  insertAlbum(
    name: string,
    createdBy: string,
    replica: Uint8Array | null,
    members: readonly string[],
  ): void {
    try {
      this.#insertAlbum(name, createdBy, replica, members);
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
    this.#appendAlbumDelta(name, delta, members);
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
    return this.#albumsAfter(afterId, limit);
  }

  /** The album's logged hand-offs since the last checkpoint, oldest first. */
  albumLog(name: string): Uint8Array[] {
    return this.#sql.albumLog.all(name).map((row) => row.delta);
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
    this.#checkpointAlbum(name, replica, members, sessionOpen);
  }

  isMember(album: string, user: string): boolean {
    return this.#sql.isMember.get(album, user) !== undefined;
  }

  /** Records that `user` rated the file; false if they already had. */
  recordRating(album: string, user: string, fileId: string): boolean {
    return this.#sql.recordRating.run(album, user, fileId, Date.now()).changes === 1;
  }

  ratedFileIds(album: string, user: string): string[] {
    return this.#sql.ratedFileIds.all(album, user).map((row) => row.fileId);
  }

  albumsOf(user: string): { name: string; memberCount: number }[] {
    return this.#sql.albumsOf.all(user);
  }

  /**
   * The albums shown as `displayName`: canonical name `displayName` or
   * `<creator>/displayName` (see album-reference.ts), case-insensitively.
   */
  albumsNamed(displayName: string): { name: string; createdBy: string }[] {
    return this.#sql.albumsNamed.all({ name: displayName });
  }
}
