// Resumable logins: a successful password login gets a session token (256
// random bits) that logs the same user in again without the password — what
// a client uses to re-authenticate by itself after a lost connection or a
// restart of the server. Only the token's SHA-256 is stored (SQLite, so it
// survives a restart); a token expires after a fixed time and is revoked by
// logout. It must never store or log a token itself, and never accept an
// expired or revoked one.
import { createHash, randomBytes } from "node:crypto";
import type Database from "better-sqlite3";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { prepared } from "./sessions/prepared.ts";

/** How long a session token logs its user in: a day (a logout ends it earlier). */
export const DEFAULT_LOGIN_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;
export const LOGIN_TOKEN_BYTES = 32;

export interface IssuedToken {
  readonly token: Uint8Array;
  readonly expiresAtUnixMs: number;
}

export interface LoginTokensOptions {
  ttlMs?: number;
  now?: () => number;
}

export class LoginTokens {
  readonly #db: Database.Database;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(db: Database.Database, options: LoginTokensOptions = {}) {
    this.#db = db;
    this.#ttlMs = options.ttlMs ?? DEFAULT_LOGIN_TOKEN_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** A new token for `user`, stored (hashed) before it is returned. */
  issue(user: string): IssuedToken {
    const token = randomBytes(LOGIN_TOKEN_BYTES);
    const now = this.#now();
    const expiresAtUnixMs = now + this.#ttlMs;
    this.#db.transaction(() => {
      // Expired tokens are swept here, so the table stays the size of the live logins.
      prepared(this.#db, "DELETE FROM login_tokens WHERE expires_at <= ?").run(now);
      prepared(
        this.#db,
        "INSERT INTO login_tokens (token_hash, user, issued_at, expires_at) VALUES (?, ?, ?, ?)",
      ).run(hashToken(token), user, now, expiresAtUnixMs);
    })();
    return { token, expiresAtUnixMs };
  }

  /** The user a live token logs in; Unauthenticated for anything else. */
  verify(token: Uint8Array): string {
    if (token.byteLength !== LOGIN_TOKEN_BYTES) {
      throw new AlbumError(ErrorCode.Unauthenticated, "malformed session token");
    }
    // Looked up by hash: the comparison is the index's, on a value an
    // attacker cannot steer bit by bit (a hash of what it sent).
    const row = prepared(
      this.#db,
      "SELECT user, expires_at AS expiresAt FROM login_tokens WHERE token_hash = ?",
    ).get(hashToken(token)) as { user: string; expiresAt: number } | undefined;
    if (!row || row.expiresAt <= this.#now()) {
      throw new AlbumError(
        ErrorCode.Unauthenticated,
        "the session token expired or was revoked; log in again",
      );
    }
    return row.user;
  }

  revoke(token: Uint8Array): void {
    prepared(this.#db, "DELETE FROM login_tokens WHERE token_hash = ?").run(hashToken(token));
  }
}

function hashToken(token: Uint8Array): Buffer {
  return createHash("sha256").update(token).digest();
}
