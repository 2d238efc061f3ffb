// What the central server vouches for in one editing session, for the peers
// to check each other by: the session's random token, every editor's public
// key (recorded with its slot at getAlbum, handed to the others, forgotten
// when the editor leaves and with the whole session when it ends), who held
// which slot before, and the highest slot handed out. Kept in the store as
// well (TrustStore), so a restarted server that resumes a session vouches
// for the same token and keys. The token names the session; it grants
// nothing without an admitted key, and is never reused.
import { randomBytes } from "node:crypto";
import { invalidArgument } from "../../common/album-error.ts";
import type { CentralStore } from "../central-store.ts";
import { prepared } from "./prepared.ts";

export const SESSION_TOKEN_BYTES = 16;
export const PEER_PUBLIC_KEY_BYTES = 32;

/** Where a session's trust is kept; every change is written before it counts. */
interface TrustRecords {
  saveHighest(highest: number): void;
  saveKey(slot: number, user: string, key: Uint8Array | null): void;
  drop(): void;
}

export class SessionTrust {
  readonly token: Uint8Array;
  readonly #keys = new Map<number, { user: string; key: Uint8Array }>();
  readonly #past: { slot: number; user: string }[] = [];
  readonly #records: TrustRecords | undefined;
  #highestSlot: number;

  constructor(
    token: Uint8Array = new Uint8Array(randomBytes(SESSION_TOKEN_BYTES)),
    highestSlot = 0,
    records?: TrustRecords,
  ) {
    this.token = token;
    this.#highestSlot = highestSlot;
    this.#records = records;
  }

  get highestSlot(): number {
    return this.#highestSlot;
  }

  /** Refuses a key already vouched for in this session. */
  checkUnused(publicKey: Uint8Array): void {
    for (const { key } of this.#keys.values()) {
      if (Buffer.from(key).equals(Buffer.from(publicKey))) {
        throw invalidArgument("that peer public key is already used in this session");
      }
    }
  }

  /** A slot was handed out to `user` with this key. */
  admit(slot: number, publicKey: Uint8Array, user = ""): void {
    this.checkUnused(publicKey);
    const key = new Uint8Array(publicKey);
    if (slot > this.#highestSlot) {
      this.#records?.saveHighest(slot);
      this.#highestSlot = slot;
    }
    this.#records?.saveKey(slot, user, key);
    this.#keys.set(slot, { user, key });
  }

  /** Restores a key read back from the store. */
  restore(slot: number, user: string, key: Uint8Array | null): void {
    if (key) this.#keys.set(slot, { user, key });
    else this.#past.push({ slot, user });
  }

  keyOf(slot: number): Uint8Array | undefined {
    return this.#keys.get(slot)?.key;
  }

  /** The slot's holder left: its key stops being vouched for at once. */
  forget(slot: number, user: string): void {
    this.#records?.saveKey(slot, user, null);
    this.#keys.delete(slot);
    this.#past.push({ slot, user });
  }

  pastEditors(): readonly { slot: number; user: string }[] {
    return this.#past;
  }

  /** The session ended: every key is forgotten. */
  end(): void {
    this.#records?.drop();
    this.#keys.clear();
  }
}

/** Checks the key an editor sent with getAlbum. */
export function checkPeerPublicKey(key: Uint8Array): Uint8Array {
  if (key.byteLength !== PEER_PUBLIC_KEY_BYTES) {
    throw invalidArgument(
      `getAlbum needs a ${PEER_PUBLIC_KEY_BYTES}-byte peer public key (this client sent ${key.byteLength} bytes; upgrade it)`,
    );
  }
  return key;
}

/** Session trust in the central store (tables session_trust and session_keys). */
export class TrustStore {
  readonly #store: CentralStore;

  constructor(store: CentralStore) {
    this.#store = store;
  }

  /** The trust of the album's session of `epoch`: read back, or made afresh. */
  load(album: string, epoch: number): SessionTrust {
    const db = this.#store.database;
    const records: TrustRecords = {
      saveHighest: (highest) =>
        void prepared(
          db,
          "UPDATE session_trust SET highest_slot = ? WHERE album = ? AND epoch = ?",
        ).run(highest, album, epoch),
      saveKey: (slot, user, key) =>
        void prepared(
          db,
          `INSERT OR REPLACE INTO session_keys (album, epoch, slot, user, public_key)
             VALUES (?, ?, ?, ?, ?)`,
        ).run(album, epoch, slot, user, key === null ? null : Buffer.from(key)),
      drop: () => {
        prepared(db, "DELETE FROM session_keys WHERE album = ?").run(album);
        prepared(db, "DELETE FROM session_trust WHERE album = ?").run(album);
      },
    };
    const row = prepared(
      db,
      "SELECT token, highest_slot AS highest FROM session_trust WHERE album = ? AND epoch = ?",
    ).get(album, epoch) as { token: Buffer; highest: number } | undefined;
    if (!row) {
      // Another epoch's trust is over: its keys are forgotten.
      records.drop();
      const trust = new SessionTrust(undefined, 0, records);
      prepared(
        db,
        "INSERT INTO session_trust (album, epoch, token, highest_slot) VALUES (?, ?, ?, 0)",
      ).run(album, epoch, Buffer.from(trust.token));
      return trust;
    }
    const trust = new SessionTrust(new Uint8Array(row.token), row.highest, records);
    const keys = prepared(
      db,
      "SELECT slot, user, public_key AS key FROM session_keys WHERE album = ? AND epoch = ? ORDER BY slot",
    ).all(album, epoch) as { slot: number; user: string; key: Buffer | null }[];
    for (const { slot, user, key } of keys) {
      trust.restore(slot, user, key && new Uint8Array(key));
    }
    return trust;
  }
}
