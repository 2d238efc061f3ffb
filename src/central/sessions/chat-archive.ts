// The chat of each album kept by the central server, so a person who opens
// the album later sees what was said. Editors hand off the chat messages they
// delivered (in their delivery order, a causal order) with their replica;
// every message is stored once, keyed by (epoch, slot, seq), and the
// insertion order is a causal order: a message is first stored by a hand-off
// of an editor that delivered (and handed off) everything it depends on
// before it. Bounded per album: the newest MAX messages, none older than
// MAX_AGE. It must never store a message twice or let an album's chat grow
// past its bound.
import type Database from "better-sqlite3";
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import type { KeptChatMessage } from "../../common/kept-chat.ts";
import { isUserName } from "../../crdt/album-names.ts";
import { MAX_CHAT_TEXT_BYTES } from "../../peer/causal-chat.ts";
import { FIRST_EDITOR_SLOT, LAST_EDITOR_SLOT } from "./session-slots.ts";
import { prepared } from "./prepared.ts";

export const CHAT_ARCHIVE_MAX_MESSAGES = 1000;
export const CHAT_ARCHIVE_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;
/** Messages one hand-off may carry (an editor sends at most the archive's bound). */
export const MAX_CHAT_PER_HAND_OFF = CHAT_ARCHIVE_MAX_MESSAGES;

/** A kept message: the same shape the client library reads. */
export type ArchivedChat = KeptChatMessage;

export interface ChatArchiveOptions {
  maxMessages?: number;
  maxAgeMs?: number;
  now?: () => number;
}

export class ChatArchive {
  readonly #db: Database.Database;
  readonly #maxMessages: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  constructor(db: Database.Database, options: ChatArchiveOptions = {}) {
    this.#db = db;
    this.#maxMessages = options.maxMessages ?? CHAT_ARCHIVE_MAX_MESSAGES;
    this.#maxAgeMs = options.maxAgeMs ?? CHAT_ARCHIVE_MAX_AGE_MS;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Stores the messages of one hand-off, in their order, each once; returns
   * how many were new. Refuses the whole batch (InvalidArgument) if any
   * message is malformed or of another epoch than `epoch`.
   */
  store(album: string, epoch: number, messages: readonly ArchivedChat[]): number {
    if (messages.length === 0) return 0;
    if (messages.length > MAX_CHAT_PER_HAND_OFF) {
      throw new AlbumError(
        ErrorCode.InvalidArgument,
        `a hand-off carries at most ${MAX_CHAT_PER_HAND_OFF} chat messages, got ${messages.length}`,
      );
    }
    for (const message of messages) checkMessage(message, epoch);
    const now = this.#now();
    let stored = 0;
    this.#db.transaction(() => {
      const insert = prepared(
        this.#db,
        `INSERT OR IGNORE INTO chat_messages
           (album, epoch, slot, seq, sender, text, sent_at, stored_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const m of messages) {
        stored += insert.run(
          album,
          m.epoch,
          m.slot,
          m.seq,
          m.sender,
          m.text,
          m.sentAtUnixMs,
          now,
        ).changes;
      }
      if (stored > 0) this.#prune(album, now);
    })();
    return stored;
  }

  /** The kept chat of sessions before `epoch`, oldest first (a causal order). */
  history(album: string, beforeEpoch: number): ArchivedChat[] {
    const rows = prepared(
      this.#db,
      `SELECT epoch, slot, seq, sender, text, sent_at AS sentAtUnixMs FROM (
           SELECT * FROM chat_messages WHERE album = ? AND epoch < ? AND stored_at > ?
           ORDER BY id DESC LIMIT ?
         ) ORDER BY id`,
    ).all(album, beforeEpoch, this.#now() - this.#maxAgeMs, this.#maxMessages) as ArchivedChat[];
    return rows;
  }

  /** Messages kept for the album (all epochs). */
  count(album: string): number {
    return (
      prepared(this.#db, "SELECT COUNT(*) AS n FROM chat_messages WHERE album = ?").get(album) as {
        n: number;
      }
    ).n;
  }

  #prune(album: string, now: number): void {
    prepared(this.#db, "DELETE FROM chat_messages WHERE album = ? AND stored_at <= ?").run(
      album,
      now - this.#maxAgeMs,
    );
    prepared(
      this.#db,
      `DELETE FROM chat_messages WHERE album = ? AND id <= (
           SELECT id FROM chat_messages WHERE album = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
    ).run(album, album, this.#maxMessages);
  }
}

function checkMessage(message: ArchivedChat, epoch: number): void {
  const problem =
    message.epoch !== epoch
      ? `a chat message of session ${message.epoch} handed off to session ${epoch}`
      : !Number.isInteger(message.slot) ||
          message.slot < FIRST_EDITOR_SLOT ||
          message.slot > LAST_EDITOR_SLOT
        ? `chat message slot ${message.slot} is out of range`
        : !Number.isInteger(message.seq) || message.seq < 1 || message.seq > 0xffffffff
          ? `chat message number ${message.seq} is out of range`
          : !isUserName(message.sender)
            ? "a chat message's sender is not a user name"
            : Buffer.byteLength(message.text) > MAX_CHAT_TEXT_BYTES
              ? `a chat message is limited to ${MAX_CHAT_TEXT_BYTES} bytes`
              : !Number.isSafeInteger(message.sentAtUnixMs) || message.sentAtUnixMs < 0
                ? "a chat message's time is out of range"
                : undefined;
  if (problem) throw new AlbumError(ErrorCode.InvalidArgument, problem);
}
