// The central server's side of editing sessions: hands out session slots,
// merges the replicas and deltas editors hand in and stores them durably,
// tells editors who joined and left, ends the session of a removed member,
// records ratings before they are applied, and compacts an album when its
// last editor leaves. One EditingSessions per server; an album has at most
// one open session, kept in memory with its decoded replica; hand-offs are
// appended to a log in the store, so one costs a merge and a small write,
// never an encode or a decode of the whole album.
// It must never reuse a slot whose holder vanished within a session, and
// never acknowledge a hand-off before it is on disk.
import { create } from "@bufbuild/protobuf";
import { AlbumError, ErrorCode, permissionDenied } from "../../common/album-error.ts";
import type { Logger } from "../../common/logger.ts";
import { auditDelta } from "../../crdt/delta-audit.ts";
import {
  compact,
  decodeDelta,
  decodeState,
  encodeState,
  isMember,
  listMembers,
  MAX_STARS,
  mergeInto,
  type AlbumState,
} from "../../crdt/index.ts";
import {
  EditorJoinedSchema,
  EditorLeftSchema,
  LeaveReason,
  NotificationSchema,
  RatingRecordedSchema,
  RatingTallySchema,
  SessionEditorSchema,
  SessionEndedSchema,
  type RatingTally as RatingTallyWire,
  type Notification,
  type SessionEditor,
} from "../../gen/albumshare/central/v1/central_pb.ts";
import type { CentralStore } from "../central-store.ts";
import type { ConnectionState } from "../handler-context.ts";
import { RatingRecords } from "./rating-records.ts";
import { SessionSlots, type Departure, type SlotHolder } from "./session-slots.ts";
import { checkPeerPublicKey, SessionTrust } from "./session-trust.ts";

export const DEFAULT_HAND_OFF_INTERVAL_MS = 1000;

/** What getAlbum gives an editor. */
export interface OpenedSession {
  readonly album: string;
  readonly slot: number;
  readonly sessionId: bigint;
  readonly replica: Uint8Array;
  readonly ratedFileIds: string[];
  readonly editors: SessionEditor[];
  readonly sessionToken: Uint8Array;
  readonly ratingTallies: RatingTallyWire[];
  readonly highestSlot: number;
  readonly pastEditors: SessionEditor[];
}

interface OpenSession {
  readonly album: string;
  readonly albumId: number;
  readonly state: AlbumState;
  readonly slots: SessionSlots<ConnectionState>;
  /** Token, keys and slot history the peers check each other by. */
  readonly trust: SessionTrust;
  /** Hand-offs logged since the last checkpoint, and their bytes. */
  logEntries: number;
  logBytes: number;
}

// When the log is folded into the stored replica: often enough that a
// restart replays little, rarely enough that the cost of encoding a large
// album is spread over many hand-offs.
const CHECKPOINT_AFTER_ENTRIES = 500;
const CHECKPOINT_AFTER_BYTES = 8 * 1024 * 1024;

const FILE_ID = /^[0-9a-f]{16}$/;
const MAX_ADDRESS_LENGTH = 300;

const departureReason: Record<Departure, LeaveReason> = {
  left: LeaveReason.LEFT,
  lost: LeaveReason.LOST,
  removed: LeaveReason.REMOVED,
};

export interface EditingSessionsOptions {
  store: CentralStore;
  logger: Logger;
}

export class EditingSessions {
  readonly #store: CentralStore;
  readonly #ratings: RatingRecords;
  readonly #logger: Logger;
  /**
   * Open sessions by album name in lower case: album names are ASCII and the
   * store compares them case-insensitively, so this finds a session without
   * asking the store.
   */
  readonly #open = new Map<string, OpenSession>();

  constructor(options: EditingSessionsOptions) {
    this.#store = options.store;
    this.#ratings = new RatingRecords(options.store);
    this.#logger = options.logger.child({ component: "sessions" });
  }

  /** Number of editors in the album's open session (0 if none). */
  editorCount(album: string): number {
    return this.#find(album)?.slots.size ?? 0;
  }

  /** getAlbum: a slot in the album's session (opened if need be) for a member, with its peer key. */
  open(
    albumName: string,
    connection: ConnectionState,
    user: string,
    peerPublicKey: Uint8Array,
  ): OpenedSession {
    checkPeerPublicKey(peerPublicKey);
    const session = this.#find(albumName) ?? this.#start(albumName, user);
    if (!isMember(session.state, user)) throw notMemberError(session.album);
    const holder = session.slots.take(user, connection);
    try {
      session.trust.admit(holder.slot, peerPublicKey);
    } catch (error) {
      session.slots.release(holder.slot, "left");
      if (session.slots.size === 0) this.#end(session);
      throw error;
    }
    this.#logger.info({ album: session.album, user, slot: holder.slot }, "editor joined");
    return {
      album: session.album,
      slot: holder.slot,
      sessionId: sessionIdOf(session),
      replica: encodeState(session.state),
      ratedFileIds: this.#store.ratedFileIds(session.album, user),
      editors: session.slots
        .holders()
        .filter((other) => other !== holder && other.address !== undefined)
        .map((other) => toWireEditor(session, other)),
      sessionToken: session.trust.token,
      ratingTallies: [...this.#ratings.tallies(session.album)].map(([fileId, tally]) =>
        create(RatingTallySchema, { fileId, raters: tally.raters, stars: BigInt(tally.stars) }),
      ),
      highestSlot: session.trust.highestSlot,
      pastEditors: session.trust
        .pastEditors()
        .map(({ slot, user: past }) => create(SessionEditorSchema, { slot, user: past })),
    };
  }

  /** The editor's peer endpoint is up: record it and tell the others. */
  announce(albumName: string, connection: ConnectionState, address: string): void {
    if (address.length === 0 || address.length > MAX_ADDRESS_LENGTH) {
      throw new AlbumError(ErrorCode.InvalidArgument, "the peer address is empty or too long");
    }
    const { session, holder } = this.#holderOf(albumName, connection);
    holder.address = address;
    this.#notifyOthers(session, holder, {
      case: "editorJoined",
      value: create(EditorJoinedSchema, {
        album: session.album,
        editor: toWireEditor(session, holder),
      }),
    });
  }

  /** Merges a delta (or state) of the open session and stores it before returning. */
  handOff(albumName: string, connection: ConnectionState, encoded: Uint8Array): void {
    const { session } = this.#holderOf(albumName, connection);
    this.#mergeAndStore(session, encoded);
  }

  /** putAlbum: merges the final replica, then frees the slot (reusable: a clean leave). */
  put(albumName: string, connection: ConnectionState, encoded: Uint8Array): void {
    const { session, holder } = this.#holderOf(albumName, connection);
    this.#mergeAndStore(session, encoded);
    // The merge may have ended this very session (the editor removed itself).
    if (session.slots.holder(holder.slot) === holder) this.#leave(session, holder, "left");
  }

  /**
   * Records the user's rating of a file with its stars; AlreadyExists the
   * second time, ever. Every editor of the session learns the file's new tally.
   */
  recordRating(
    albumName: string,
    connection: ConnectionState,
    fileId: string,
    stars: number,
  ): void {
    if (!FILE_ID.test(fileId)) {
      throw new AlbumError(ErrorCode.InvalidArgument, "malformed file id");
    }
    if (!Number.isInteger(stars) || stars < 0 || stars > MAX_STARS) {
      throw new AlbumError(ErrorCode.InvalidArgument, `a rating has 0 to ${MAX_STARS} stars`);
    }
    const { session, holder } = this.#holderOf(albumName, connection);
    if (!this.#ratings.record(session.album, holder.user, fileId, stars)) {
      throw new AlbumError(ErrorCode.AlreadyExists, "you have already rated this file");
    }
    const tally = this.#ratings.tally(session.album, fileId);
    const frame = notification({
      case: "ratingRecorded",
      value: create(RatingRecordedSchema, {
        album: session.album,
        tally: create(RatingTallySchema, {
          fileId,
          raters: tally.raters,
          stars: BigInt(tally.stars),
        }),
      }),
    });
    for (const other of session.slots.holders()) other.connection.notify(frame);
  }

  /** A connection closed (or logged out): every slot it held is lost. */
  connectionGone(connection: ConnectionState): void {
    for (const session of [...this.#open.values()]) {
      for (const holder of session.slots.holders()) {
        if (holder.connection === connection) this.#leave(session, holder, "lost");
      }
    }
  }

  /** Closes every session (server shutdown): stored replicas stay as handed off. */
  stopAll(): void {
    this.#open.clear();
  }

  #find(albumName: string): OpenSession | undefined {
    return this.#open.get(sessionKey(albumName));
  }

  #start(albumName: string, user: string): OpenSession {
    const record = this.#store.findAlbum(albumName);
    // An unknown album and one the user is not in get the same answer.
    if (!record || record.replica === null || !this.#store.isMember(record.name, user)) {
      throw notMemberError(albumName);
    }
    let state = decodeState(record.replica);
    for (const delta of this.#store.albumLog(record.name)) {
      const logged = decodeDelta(delta);
      // Only a log of the stored replica's epoch is ever written; anything else is ignored.
      if (logged.epoch === state.epoch) mergeInto(state, logged);
    }
    if (record.sessionOpen) {
      // The server stopped while a session was open: its holders are gone
      // and their counters unknown, so the next session starts a new epoch.
      state = compact(state);
      this.#logger.info({ album: record.name }, "compacted an album left open by a stop");
    }
    this.#store.checkpointAlbum(record.name, encodeState(state), listMembers(state), true);
    const session: OpenSession = {
      album: record.name,
      albumId: record.id,
      state,
      slots: new SessionSlots<ConnectionState>(),
      trust: new SessionTrust(),
      logEntries: 0,
      logBytes: 0,
    };
    this.#open.set(sessionKey(record.name), session);
    this.#logger.info({ album: record.name, epoch: state.epoch }, "editing session opened");
    return session;
  }

  #holderOf(
    albumName: string,
    connection: ConnectionState,
  ): { session: OpenSession; holder: SlotHolder<ConnectionState> } {
    const session = this.#find(albumName);
    const holder = session?.slots.holders().find((h) => h.connection === connection);
    if (!session || !holder) {
      throw new AlbumError(
        ErrorCode.FailedPrecondition,
        `not in an editing session of '${albumName}' (getAlbum first)`,
      );
    }
    return { session, holder };
  }

  #mergeAndStore(session: OpenSession, encoded: Uint8Array): void {
    const delta = decodeDelta(encoded);
    if (delta.epoch !== session.state.epoch) {
      throw new AlbumError(
        ErrorCode.FailedPrecondition,
        `stale replica: it is of session ${delta.epoch} of '${session.album}', which is in session ${session.state.epoch}`,
      );
    }
    // A member may edit, but not invent slots nor ratings nobody gave.
    const forged = auditDelta(session.state, delta, {
      highestSlot: session.trust.highestSlot,
      ratingTally: (fileId) => this.#ratings.tally(session.album, fileId),
    });
    if (forged !== undefined) {
      this.#logger.warn({ album: session.album, problem: forged }, "hand-off refused");
      throw new AlbumError(ErrorCode.PermissionDenied, `hand-off refused: ${forged}`);
    }
    const membersBefore = listMembers(session.state);
    mergeInto(session.state, delta);
    const members = listMembers(session.state);
    const membersChanged = !sameList(membersBefore, members);
    // Durable before the caller replies: the delta goes to the log (its size,
    // not the album's), and now and then the whole replica is rewritten.
    this.#store.appendAlbumDelta(session.album, encoded, membersChanged ? members : undefined);
    session.logEntries++;
    session.logBytes += encoded.byteLength;
    if (
      session.logEntries >= CHECKPOINT_AFTER_ENTRIES ||
      session.logBytes >= CHECKPOINT_AFTER_BYTES
    ) {
      this.#store.checkpointAlbum(session.album, encodeState(session.state), members, true);
      session.logEntries = 0;
      session.logBytes = 0;
    }
    if (membersChanged) this.#enforceMembership(session, members);
  }

  /** Ends the session of every editor who is no longer a member. */
  #enforceMembership(session: OpenSession, members: readonly string[]): void {
    const current = new Set(members);
    for (const holder of session.slots.holders()) {
      if (current.has(holder.user)) continue;
      holder.connection.notify(
        notification({
          case: "sessionEnded",
          value: create(SessionEndedSchema, {
            album: session.album,
            reason: `you were removed from the members of '${session.album}'`,
          }),
        }),
      );
      this.#leave(session, holder, "removed");
    }
  }

  #leave(session: OpenSession, holder: SlotHolder<ConnectionState>, how: Departure): void {
    session.slots.release(holder.slot, how);
    session.trust.forget(holder.slot, holder.user);
    this.#logger.info(
      { album: session.album, user: holder.user, slot: holder.slot, how },
      "editor left",
    );
    this.#notifyOthers(session, holder, {
      case: "editorLeft",
      value: create(EditorLeftSchema, {
        album: session.album,
        slot: holder.slot,
        user: holder.user,
        reason: departureReason[how],
      }),
    });
    if (session.slots.size === 0) this.#end(session);
  }

  /** The last editor left: compact into the next epoch and close the session. */
  #end(session: OpenSession): void {
    this.#open.delete(sessionKey(session.album));
    const next = compact(session.state);
    this.#store.checkpointAlbum(session.album, encodeState(next), listMembers(next), false);
    this.#logger.info({ album: session.album, epoch: next.epoch }, "editing session ended");
  }

  #notifyOthers(
    session: OpenSession,
    except: SlotHolder<ConnectionState>,
    body: Notification["body"],
  ): void {
    const frame = notification(body);
    for (const holder of session.slots.holders()) {
      if (holder !== except) holder.connection.notify(frame);
    }
  }
}

const sessionKey = (album: string): string => album.toLowerCase();

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((item, index) => item === b[index]);

function notification(body: Notification["body"]): {
  case: "notification";
  value: Notification;
} {
  return { case: "notification", value: create(NotificationSchema, { body }) };
}

function toWireEditor(session: OpenSession, holder: SlotHolder<ConnectionState>): SessionEditor {
  return create(SessionEditorSchema, {
    slot: holder.slot,
    user: holder.user,
    address: holder.address ?? "",
    publicKey: session.trust.keyOf(holder.slot) ?? new Uint8Array(0),
  });
}

/** Unique per (album, epoch): peers of an earlier session of the album are ignored. */
function sessionIdOf(session: OpenSession): bigint {
  return (BigInt(session.albumId) << 32n) | BigInt(session.state.epoch);
}

function notMemberError(album: string): AlbumError {
  return permissionDenied(`'${album}' is not an album you are a member of`);
}
