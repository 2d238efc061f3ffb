// One owner per data folder: an exclusive lock that the operating system holds
// for the process and drops when the process dies, however it dies (kill -9,
// a crash, a power cut), so there is never a stale lock to clean by hand.
//
// Node has no flock(), so the lock is a tiny SQLite database in the folder,
// opened with locking_mode=EXCLUSIVE and written once: SQLite then keeps a
// POSIX write lock on the file until the connection closes or the process
// ends. A second process (or a second connection in this process) that tries
// to write it gets SQLITE_BUSY at once. Beside it, a small JSON file names the
// holder (pid, role, address), so the refusal can say who holds the folder.
//
// It must never wait for a lock (a second server exits at once instead), never
// delete the lock file of a live holder, and never treat the owner file as the
// lock: that file is only a description and may be stale or missing.
import Database from "better-sqlite3";
import { readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { AlbumError, ErrorCode } from "./album-error.ts";
import { ensurePrivateDir, makePrivate, writePrivateFile } from "./private-files.ts";

export const LOCK_FILE = ".lock";
// Held locks stay reachable from here until released: a lock object dropped
// by its caller would otherwise be collected, its database closed by the
// finalizer, and the folder silently unlocked while the process still runs.
const held = new Set<Database.Database>();
export const LOCK_OWNER_FILE = ".lock-owner.json";

/** Who holds a folder, as written beside the lock. */
export interface FolderLockOwner {
  pid: number;
  /** What the process is, e.g. "central", "data", "albumshare up". */
  role: string;
  /** Where it serves, when it serves (host:port), or any short description. */
  address?: string;
  /** Extra words for people, e.g. "data in ./.albumshare". */
  detail?: string;
}

export interface FolderLock {
  readonly dir: string;
  /** Rewrites the owner description, e.g. once the real port is known. */
  describe(update: Partial<Omit<FolderLockOwner, "pid">>): void;
  /** Releases the lock (idempotent). The process ending releases it too. */
  release(): void;
}

/**
 * Takes the exclusive lock on `dir` (created if missing, made 0700) or throws an
 * AlbumError FailedPrecondition naming the folder and, when known, its holder:
 * "the folder /x is in use by pid 1234 (central on 127.0.0.1:7400)".
 */
export function acquireFolderLock(dir: string, owner: Omit<FolderLockOwner, "pid">): FolderLock {
  ensurePrivateDir(dir);
  const lockPath = join(dir, LOCK_FILE);
  let db: Database.Database;
  try {
    // timeout 0: a held lock is reported at once, never waited for.
    db = new Database(lockPath, { timeout: 0 });
  } catch (error) {
    throw new AlbumError(
      ErrorCode.FailedPrecondition,
      `cannot open the lock file of the folder ${dir}: ${AlbumError.from(error).message}`,
      { cause: error },
    );
  }
  try {
    db.pragma("locking_mode = EXCLUSIVE");
    // No journal file beside the lock: the one write below only takes the lock.
    db.pragma("journal_mode = MEMORY");
    db.exec("BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS held (pid INTEGER); COMMIT;");
  } catch (error) {
    db.close();
    if (isBusy(error)) throw inUse(dir, readOwner(dir));
    throw new AlbumError(
      ErrorCode.FailedPrecondition,
      `cannot lock the folder ${dir}: ${AlbumError.from(error).message}`,
      { cause: error },
    );
  }
  makePrivate(lockPath);
  held.add(db);
  let current: FolderLockOwner = { ...owner, pid: process.pid };
  writeOwner(dir, current);
  return {
    dir,
    describe(update) {
      if (!held.has(db)) return;
      current = { ...current, ...update };
      writeOwner(dir, current);
    },
    release() {
      if (!held.delete(db)) return;
      // The description goes first: while it is gone the lock still holds,
      // so no other process can find a description that names us after we left.
      rmSync(join(dir, LOCK_OWNER_FILE), { force: true });
      db.close();
    },
  };
}

/** Who holds `dir` according to its owner file, if that file is readable. */
export function readOwner(dir: string): FolderLockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, LOCK_OWNER_FILE), "utf8")) as unknown;
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const { pid, role, address, detail } = parsed as Record<string, unknown>;
    if (typeof pid !== "number" || typeof role !== "string") return undefined;
    return {
      pid,
      role,
      ...(typeof address === "string" ? { address } : {}),
      ...(typeof detail === "string" ? { detail } : {}),
    };
  } catch {
    return undefined;
  }
}

/** "central on 127.0.0.1:7400" — the holder in a few words. */
export function describeOwner(owner: FolderLockOwner): string {
  const where = owner.address ? ` on ${owner.address}` : "";
  const detail = owner.detail ? `, ${owner.detail}` : "";
  return `${owner.role}${where}${detail}`;
}

function inUse(dir: string, owner: FolderLockOwner | undefined): AlbumError {
  const holder = owner
    ? `pid ${owner.pid} (${describeOwner(owner)})`
    : "another process (its description is not written yet)";
  return new AlbumError(ErrorCode.FailedPrecondition, `the folder ${dir} is in use by ${holder}`);
}

function writeOwner(dir: string, owner: FolderLockOwner): void {
  // Written aside and renamed, so a reader sees the old or the new, never half.
  const temporary = join(dir, `${LOCK_OWNER_FILE}.${process.pid}.tmp`);
  writePrivateFile(temporary, `${JSON.stringify(owner)}\n`);
  renameSync(temporary, join(dir, LOCK_OWNER_FILE));
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_BUSY" || code === "SQLITE_LOCKED";
}
