// The central server's side of editing sessions: hands out session slots,
// merges the replicas and deltas editors hand in and stores them durably,
// tells editors who joined and left, ends the session of a removed member,
// records ratings before they are applied, and ends (compacts) a session when
// its last editor leaves. One EditingSessions per server; an album has at
// most one open session (open-sessions.ts), kept in memory with its decoded
// replica; hand-offs are appended to a log in the store, so one costs a
// merge and a small write, never an encode or a decode of the whole album.
// An editor whose connection drops keeps its slot for a grace period and
// may resume it (same epoch, same slot, its replica kept); a restarted server
// rebuilds open sessions from the durable slot table instead of compacting
// them (docs/sessions.md, "Resuming"). A removal of a member is enforced only
// on the merged state, once concurrent hand-offs had time to arrive and no
// editor is away (pending-removals.ts). Editors
// hand their delivered chat in with their changes; it is kept per album.
// Each editor's peer public key is recorded with its slot and vouched for to
// the others (session-trust.ts), and every hand-off is audited against the
// session's slots and the rate-once records before it is merged.
// It must never reuse a slot whose holder vanished within a session, never
// let anyone but an away holder (with its resume key) reclaim a slot, and
// never acknowledge a hand-off or hand out a slot before it is on disk.
import { create } from "@bufbuild/protobuf";
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import type { Logger } from "../../common/logger.ts";
import { encodeState, isMember, listMembers } from "../../crdt/index.ts";
import {
  ResumeOutcome,
  SessionEditorSchema,
  type ChatRecord,
  type RatingTally as RatingTallyWire,
} from "../../gen/albumshare/central/v1/central_pb.ts";
import type { CentralStore } from "../central-store.ts";
import type { ConnectionState } from "../handler-context.ts";
import { sessionIdOf, type OpenSession, type ResumeResult } from "./open-session.ts";
import { counterBehindResult, decideResume, type ResumeClaim } from "./resume-claim.ts";
import { newResumeKey } from "./resume-keys.ts";
import { checkRating, RatingRecords } from "./rating-records.ts";
import { SessionDurability } from "./session-durability.ts";
import { OpenSessions } from "./open-sessions.ts";
import { checkPeerPublicKey } from "./session-trust.ts";
import { SessionVouching } from "./session-vouching.ts";
import { mergeHandOff } from "./hand-off-merge.ts";
import type { Departure, SlotHolder } from "./session-slots.ts";
import {
  chatToWire,
  editorLeft,
  notification,
  notifyOthers,
  notMemberError,
  ratingRecorded,
  ratingTallyToWire,
  sessionEnded,
} from "./session-wire.ts";
import {
  DEFAULT_HAND_OFF_INTERVAL_MS,
  DEFAULT_RESUME_GRACE_MS,
  REMOVAL_SETTLE_PERIODS,
  SWEEP_INTERVAL_MS,
  type EditingSessionsOptions,
  type VouchedSession,
} from "./editing-sessions-options.ts";

export type { OpenedSession, ResumeClaim, ResumeResult } from "./open-session.ts";
export {
  DEFAULT_HAND_OFF_INTERVAL_MS,
  DEFAULT_RESUME_GRACE_MS,
  type EditingSessionsOptions,
  type VouchedSession,
} from "./editing-sessions-options.ts";

const MAX_ADDRESS_LENGTH = 300;
/** The highest chat number a leaver may leave for its slot's successor (2^31: room for as many more). */
const MAX_SLOT_CHAT_SEQ = 2 ** 31;

export class EditingSessions {
  readonly #store: CentralStore;
  readonly #logger: Logger;
  readonly #sessions: OpenSessions;
  readonly #durable: SessionDurability;
  readonly #ratings: RatingRecords;
  /** Token and keys of each open session, and the editors as vouched for. */
  readonly #vouching: SessionVouching;
  readonly #now: () => number;
  readonly #graceMs: number;
  readonly #settleMs: number;
  readonly #sweeper: NodeJS.Timeout | undefined;

  constructor(options: EditingSessionsOptions) {
    this.#store = options.store;
    this.#logger = options.logger.child({ component: "sessions" });
    this.#now = options.now ?? Date.now;
    this.#graceMs = options.resumeGraceMs ?? DEFAULT_RESUME_GRACE_MS;
    this.#settleMs =
      REMOVAL_SETTLE_PERIODS * (options.handOffIntervalMs ?? DEFAULT_HAND_OFF_INTERVAL_MS);
    this.#durable = new SessionDurability(options.store, this.#now);
    this.#ratings = new RatingRecords(options.store);
    this.#vouching = new SessionVouching(options.store);
    this.#sessions = new OpenSessions({
      store: options.store,
      durable: this.#durable,
      vouching: this.#vouching,
      logger: this.#logger,
    });
    // A removal still settling when the server stopped is not in the store:
    // settle it again, from now, on the merged state.
    for (const session of this.#sessions.recover(this.#now())) this.#noteRemovals(session);
    const sweepMs = options.sweepIntervalMs ?? SWEEP_INTERVAL_MS;
    if (sweepMs > 0) {
      this.#sweeper = setInterval(() => this.#sweepSafely(), sweepMs);
      this.#sweeper.unref();
    }
  }

  get resumeGraceMs(): number {
    return this.#graceMs;
  }

  /** Number of editors in the album's open session (0 if none). */
  editorCount(album: string): number {
    return this.#sessions.find(album)?.slots.size ?? 0;
  }

  /** getAlbum: a slot in the album's session (opened if need be) for a member, with its peer key. */
  open(
    albumName: string,
    connection: ConnectionState,
    user: string,
    peerPublicKey: Uint8Array,
  ): VouchedSession {
    checkPeerPublicKey(peerPublicKey);
    const session = this.#sessions.findOrStart(albumName, user);
    const trust = this.#vouching.trustOf(session);
    trust.checkUnused(peerPublicKey);
    if (!isMember(session.state, user)) throw notMemberError(session.album);
    const earlier = session.slots.holderOf(user);
    if (earlier && earlier.connection === undefined) {
      // The user opens the album again instead of resuming (e.g. a new
      // shell): the away slot is given up as a crash would be.
      this.#release(session, earlier, "lost");
    }
    const resume = newResumeKey();
    const holder = session.slots.take(user, connection, resume.hash);
    try {
      this.#durable.saveSlot(session, holder, "held");
      trust.admit(holder.slot, peerPublicKey, user);
    } catch (error) {
      session.slots.release(holder.slot, "lost");
      throw error;
    }
    this.#logger.info({ album: session.album, user, slot: holder.slot }, "editor joined");
    return {
      album: session.album,
      slot: holder.slot,
      sessionId: sessionIdOf(session),
      replica: encodeState(session.state),
      ratedFileIds: this.#store.ratedFileIds(session.album, user),
      editors: this.#vouching.othersOf(session, holder),
      resumeKey: resume.key,
      chatHistory: this.#durable.chatBefore(session.album, session.state.epoch).map(chatToWire),
      resumeGraceMs: this.#graceMs,
      chatSeq: holder.chatSeq,
      sessionToken: trust.token,
      ratingTallies: this.#tallies(session),
      highestSlot: trust.highestSlot,
      pastEditors: trust
        .pastEditors()
        .map(({ slot, user: past }) => create(SessionEditorSchema, { slot, user: past })),
    };
  }

  /**
   * resumeAlbum: an editor of the same epoch reclaims its own slot (same user,
   * its resume key) and hands in what the server may lack. An editor whose
   * slot was retired meanwhile still gets its changes merged (no one else
   * ever numbers that slot), but must open the album again.
   */
  resume(
    albumName: string,
    connection: ConnectionState,
    user: string,
    claim: ResumeClaim,
  ): ResumeResult {
    if (claim.address.length > MAX_ADDRESS_LENGTH) {
      throw new AlbumError(ErrorCode.InvalidArgument, "the peer address is too long");
    }
    const session = this.#sessions.find(albumName);
    const decision = decideResume(session, albumName, user, claim);
    if (!session) throw notMemberError(albumName); // decideResume refused already
    if (decision.kind === "counterBehind") {
      // Nothing merged, the slot stays away: the claimant may be a replica
      // that is not the holder's latest, whose delta would relabel used dots.
      this.#logger.info(
        {
          album: session.album,
          user,
          slot: claim.slot,
          counter: claim.counter,
          known: decision.known,
        },
        "resume refused: counter behind the server's copy",
      );
      return counterBehindResult(session.album, claim, decision.known);
    }
    if (decision.kind === "reclaim") {
      const holder = decision.holder;
      // Merged first: a refused delta leaves the editor away, to try again.
      this.#mergeAndStore(session, claim.delta, claim.chat);
      session.slots.reclaim(claim.slot, connection);
      if (claim.address !== "") holder.address = claim.address;
      this.#durable.saveSlot(session, holder, "held");
      this.#logger.info({ album: session.album, user, slot: holder.slot }, "editor resumed");
      if (holder.address !== undefined) {
        notifyOthers(session, holder, this.#vouching.joinedNotice(session, holder));
      }
      return {
        outcome: ResumeOutcome.RESUMED,
        editors: this.#vouching.othersOf(session, holder),
        reason: "",
        // What it missed while away (notices are not replayed).
        ratingTallies: this.#tallies(session),
        highestSlot: this.#vouching.trustOf(session).highestSlot,
      };
    }
    this.#mergeAndStore(session, claim.delta, claim.chat);
    this.#logger.info({ album: session.album, user, slot: claim.slot }, "late editor handed off");
    return {
      outcome: ResumeOutcome.HANDED_OFF,
      editors: [],
      ratingTallies: [],
      highestSlot: 0,
      reason: `your slot in '${session.album}' was given up while you were away; your changes were handed off, open the album again to keep editing`,
    };
  }

  /** The editor's peer endpoint is up: record it and tell the others. */
  announce(albumName: string, connection: ConnectionState, address: string): void {
    if (address.length === 0 || address.length > MAX_ADDRESS_LENGTH) {
      throw new AlbumError(ErrorCode.InvalidArgument, "the peer address is empty or too long");
    }
    const { session, holder } = this.#holderOf(albumName, connection);
    holder.address = address;
    // Kept with the slot so a newcomer after a restart learns of away editors too.
    this.#durable.saveSlot(session, holder, "held");
    notifyOthers(session, holder, this.#vouching.joinedNotice(session, holder));
  }

  /** Merges a delta (or state) of the open session and stores it before returning. */
  handOff(
    albumName: string,
    connection: ConnectionState,
    encoded: Uint8Array,
    chat: readonly ChatRecord[] = [],
  ): void {
    const { session } = this.#holderOf(albumName, connection);
    this.#mergeAndStore(session, encoded, chat);
  }

  /**
   * putAlbum: merges the final replica, then frees the slot (reusable: a
   * clean leave), noting the highest chat number of the slot (`chatSeq`, the
   * editor's word, or a higher one its chat carries) for the next holder.
   */
  put(
    albumName: string,
    connection: ConnectionState,
    encoded: Uint8Array,
    chat: readonly ChatRecord[] = [],
    chatSeq = 0,
  ): void {
    const { session, holder } = this.#holderOf(albumName, connection);
    this.#mergeAndStore(session, encoded, chat);
    for (const message of chat) {
      if (message.slot === holder.slot) chatSeq = Math.max(chatSeq, message.seq);
    }
    // The leaver's word, bounded: a successor always has room to number its
    // lines (chat numbers are 32-bit on the wire and in the archive).
    holder.chatSeq = Math.max(holder.chatSeq, Math.min(chatSeq, MAX_SLOT_CHAT_SEQ));
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
    checkRating(fileId, stars);
    const { session, holder } = this.#holderOf(albumName, connection);
    if (!this.#ratings.record(session.album, holder.user, fileId, stars)) {
      throw new AlbumError(ErrorCode.AlreadyExists, "you have already rated this file");
    }
    const frame = notification(
      ratingRecorded(session, fileId, this.#ratings.tally(session.album, fileId)),
    );
    for (const other of session.slots.holders()) other.connection?.notify(frame);
  }

  /**
   * A connection closed: its slots are held for the grace period, so the
   * editor can resume. A logout gives them up at once (as a crash).
   */
  connectionGone(connection: ConnectionState, how: "dropped" | "logout" = "dropped"): void {
    const now = this.#now();
    for (const session of this.#sessions.all()) {
      for (const holder of session.slots.holders()) {
        if (holder.connection !== connection) continue;
        if (how === "logout") {
          this.#leave(session, holder, "lost");
        } else {
          session.slots.markAway(holder.slot, now);
          this.#logger.info(
            { album: session.album, user: holder.user, slot: holder.slot },
            "editor away; its slot is held for the grace period",
          );
        }
      }
    }
  }

  /**
   * Retires the slots of editors away past the grace period and enforces
   * removals that have settled. Run by a timer (or by a simulation).
   */
  sweep(): void {
    const now = this.#now();
    for (const session of this.#sessions.all()) {
      for (const holder of session.slots.expired(now, this.#graceMs)) {
        if (this.#sessions.isOpen(session)) this.#leave(session, holder, "lost");
      }
      // While an editor is away, it may hold a concurrent change that keeps
      // the member (e.g. its own removal of the remover): removals wait until
      // it hands in on resuming, or its grace period ends.
      if (
        this.#sessions.isOpen(session) &&
        session.removals.size > 0 &&
        session.slots.holders().every((h) => h.connection !== undefined)
      ) {
        this.#enforceMembership(session, now);
      }
    }
  }

  /** Closes every session (server shutdown): stored replicas and slot tables stay as they are. */
  stopAll(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sessions.clear();
  }

  #sweepSafely(): void {
    try {
      this.sweep();
    } catch (error) {
      this.#logger.error({ err: error }, "sweeping editing sessions failed");
    }
  }

  /** The session's rate-once tallies, as editors are told them. */
  #tallies(session: OpenSession): RatingTallyWire[] {
    return [...this.#ratings.tallies(session.album)].map(([fileId, tally]) =>
      ratingTallyToWire(fileId, tally),
    );
  }

  #holderOf(
    albumName: string,
    connection: ConnectionState,
  ): { session: OpenSession; holder: SlotHolder<ConnectionState> } {
    const session = this.#sessions.find(albumName);
    const holder = session?.slots.holders().find((h) => h.connection === connection);
    if (!session || !holder) {
      throw new AlbumError(
        ErrorCode.FailedPrecondition,
        `not in an editing session of '${albumName}' (getAlbum first)`,
      );
    }
    return { session, holder };
  }

  #mergeAndStore(
    session: OpenSession,
    encoded: Uint8Array,
    chat: readonly ChatRecord[] = [],
  ): void {
    // Chat first: a refused batch must not leave the delta half-applied.
    this.#durable.storeChat(session, chat);
    if (encoded.byteLength === 0) return;
    const merged = mergeHandOff(
      session.album,
      session.state,
      encoded,
      {
        highestSlot: this.#vouching.trustOf(session).highestSlot,
        ratingTally: (fileId) => this.#ratings.tally(session.album, fileId),
      },
      (problem) => this.#logger.warn({ album: session.album, problem }, "hand-off refused"),
    );
    if (merged.kind === "empty") return;
    const { members } = merged;
    // Durable before the caller replies: the delta goes to the log (its size,
    // not the album's), and now and then the whole replica is rewritten.
    this.#durable.logHandOff(session, encoded, members);
    // Not at once: a concurrent hand-off may keep the member (e.g. two
    // editors removing each other); decided on the merged state later.
    if (members) this.#noteRemovals(session);
  }

  #noteRemovals(session: OpenSession): void {
    const members = new Set(listMembers(session.state));
    session.removals.note(members, session.slots.holders(), this.#now());
  }

  /** Ends the session of every editor whose removal has settled and still holds. */
  #enforceMembership(session: OpenSession, now: number): void {
    const members = new Set(listMembers(session.state));
    const holderOf = (slot: number) => session.slots.holder(slot);
    for (const slot of session.removals.settled(members, holderOf, now, this.#settleMs)) {
      const holder = session.slots.holder(slot);
      if (!holder) continue;
      holder.connection?.notify(
        notification(
          sessionEnded(session, `you were removed from the members of '${session.album}'`),
        ),
      );
      this.#leave(session, holder, "removed");
    }
  }

  #leave(session: OpenSession, holder: SlotHolder<ConnectionState>, how: Departure): void {
    this.#release(session, holder, how);
    if (session.slots.size === 0) this.#sessions.end(session);
  }

  /** Frees the slot (recorded first), tells the others; never ends the session. */
  #release(session: OpenSession, holder: SlotHolder<ConnectionState>, how: Departure): void {
    this.#durable.saveSlot(session, holder, how === "left" ? "reusable" : "retired");
    session.slots.release(holder.slot, how);
    session.removals.forget(holder.slot);
    this.#vouching.trustOf(session).forget(holder.slot, holder.user);
    this.#logger.info(
      { album: session.album, user: holder.user, slot: holder.slot, how },
      "editor left",
    );
    notifyOthers(session, holder, editorLeft(session, holder, how));
  }
}
