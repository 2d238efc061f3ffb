// The central server's open editing sessions, one per album at most: found by
// album name without asking the store (names are ASCII and compared
// case-insensitively, so the key is the name in lower case), started for a
// member from the stored replica (a fresh epoch if a stop left the album
// open with nobody to resume it), rebuilt after a restart from the stored
// replica, log and slot table (same epoch, every holder away), and ended —
// compacted into the next epoch — when the last editor leaves. It decides
// nothing about slots or members beyond "is this user a member"; the session
// rules are EditingSessions'. It must never keep two sessions of one album.
import type { Logger } from "../../common/logger.ts";
import { compact } from "../../crdt/index.ts";
import type { CentralStore } from "../central-store.ts";
import { openSession, sessionKey, type OpenSession } from "./open-session.ts";
import type { SessionDurability } from "./session-durability.ts";
import { SessionSlots } from "./session-slots.ts";
import type { SessionVouching } from "./session-vouching.ts";
import { notMemberError } from "./session-wire.ts";

export interface OpenSessionsOptions {
  store: CentralStore;
  durable: SessionDurability;
  vouching: SessionVouching;
  logger: Logger;
}

export class OpenSessions {
  readonly #byKey = new Map<string, OpenSession>();
  readonly #options: OpenSessionsOptions;

  constructor(options: OpenSessionsOptions) {
    this.#options = options;
  }

  find(albumName: string): OpenSession | undefined {
    return this.#byKey.get(sessionKey(albumName));
  }

  /** False once `session` ended (a later one of its album is another session). */
  isOpen(session: OpenSession): boolean {
    return this.find(session.album) === session;
  }

  /** The open sessions now (a copy: ending one while walking it is fine). */
  all(): OpenSession[] {
    return [...this.#byKey.values()];
  }

  /** The album's open session, started for `user` if there is none; PermissionDenied for a non-member. */
  findOrStart(albumName: string, user: string): OpenSession {
    return this.find(albumName) ?? this.#start(albumName, user);
  }

  /**
   * At start: every session the last run left open, rebuilt from its stored
   * replica, log and slot table. Its holders are away (they may resume); the
   * epoch stays, so their replicas are still good.
   */
  recover(now: number): OpenSession[] {
    const sessions = this.#options.durable.recoverSessions(now);
    for (const session of sessions) {
      this.#byKey.set(sessionKey(session.album), session);
      this.#options.logger.info(
        { album: session.album, epoch: session.state.epoch, away: session.slots.size },
        "editing session recovered after a restart; its editors may resume",
      );
    }
    return sessions;
  }

  /** The last editor left: compact into the next epoch and close the session. */
  end(session: OpenSession): void {
    this.#byKey.delete(sessionKey(session.album));
    this.#options.vouching.end(session);
    const next = this.#options.durable.endSession(session);
    this.#options.logger.info({ album: session.album, epoch: next.epoch }, "editing session ended");
  }

  /** Forgets every session (server shutdown): stored replicas and slot tables stay. */
  clear(): void {
    this.#byKey.clear();
  }

  #start(albumName: string, user: string): OpenSession {
    const { store, durable, logger } = this.#options;
    const record = store.findAlbum(albumName);
    // An unknown album and one the user is not in get the same answer.
    if (!record || record.replica === null || !store.isMember(record.name, user)) {
      throw notMemberError(albumName);
    }
    let state = durable.replay(record.name, record.replica);
    if (record.sessionOpen) {
      // Left open by a stop with no slot anybody may resume (recovery keeps
      // the others): nobody holds a slot of it, so start a new epoch.
      state = compact(state);
      logger.info({ album: record.name }, "compacted an album left open by a stop");
    }
    durable.startSession(record.name, state);
    const session = openSession(record.name, record.id, state, new SessionSlots());
    this.#byKey.set(sessionKey(record.name), session);
    logger.info({ album: record.name, epoch: state.epoch }, "editing session opened");
    return session;
  }
}
