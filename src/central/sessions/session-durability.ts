// Everything the sessions layer writes to or reads from the store: the
// replica with its log of hand-offs (appended, checkpointed now and then),
// the durable slot table, the chat archive, and the replay of an album after
// a restart. Each write has been fsynced when the call returns, so the
// caller may reply. It must never decide anything about slots or members.
import { compact, encodeState, listMembers, type AlbumState } from "../../crdt/index.ts";
import type { ChatRecord } from "../../gen/albumshare/central/v1/central_pb.ts";
import { replayAlbum } from "../album-replica.ts";
import type { CentralStore } from "../central-store.ts";
import type { ConnectionState } from "../handler-context.ts";
import { ChatArchive, type ArchivedChat } from "./chat-archive.ts";
import { openSession, type OpenSession } from "./open-session.ts";
import { SessionSlots, type SlotHolder, type SlotRecord } from "./session-slots.ts";
import { chatFromWire } from "./session-wire.ts";
import { SlotTableStore } from "./slot-table-store.ts";

// When the log is folded into the stored replica: often enough that a
// restart replays little, rarely enough that the cost of encoding a large
// album is spread over many hand-offs.
const CHECKPOINT_AFTER_ENTRIES = 500;
const CHECKPOINT_AFTER_BYTES = 8 * 1024 * 1024;

export class SessionDurability {
  readonly store: CentralStore;
  readonly #slotTable: SlotTableStore;
  readonly #chat: ChatArchive;

  constructor(store: CentralStore, now: () => number) {
    this.store = store;
    this.#slotTable = new SlotTableStore(store.database);
    this.#chat = new ChatArchive(store.database, { now });
  }

  /**
   * At start: every session the last run left open with a holder in its slot
   * table, rebuilt from the stored replica, log and table — same epoch, every
   * holder away since `now`. Sessions with no holder are left to be
   * compacted by their next getAlbum.
   */
  recoverSessions(now: number): OpenSession[] {
    const sessions: OpenSession[] = [];
    for (const album of this.#slotTable.openAlbums()) {
      const record = this.store.findAlbum(album);
      if (!record || record.replica === null) continue;
      const state = this.replay(record.name, record.replica);
      const slots = this.#slotTable.load(record.name, state.epoch);
      if (!slots.some((slot) => slot.state === "held")) continue;
      sessions.push(
        openSession(
          record.name,
          record.id,
          state,
          SessionSlots.restore<ConnectionState>(slots, now),
        ),
      );
    }
    return sessions;
  }

  /** The stored replica with the log of its epoch merged in. */
  replay(album: string, replica: Uint8Array): AlbumState {
    return replayAlbum(replica, this.store.albumLog(album));
  }

  saveSlot(
    session: OpenSession,
    holder: SlotHolder<ConnectionState>,
    state: SlotRecord["state"],
  ): void {
    this.#slotTable.save(session.album, session.state.epoch, {
      slot: holder.slot,
      user: holder.user,
      state,
      resumeKeyHash: holder.resumeKeyHash,
      address: holder.address,
      chatSeq: holder.chatSeq,
    });
  }

  /** A new session starts from `state` (no slot of any earlier one counts). */
  startSession(album: string, state: AlbumState): void {
    this.#slotTable.clear(album);
    this.store.checkpointAlbum(album, encodeState(state), listMembers(state), true);
  }

  /** Keeps the chat a hand-off carried (each message once); refuses a malformed batch. */
  storeChat(session: OpenSession, chat: readonly ChatRecord[]): void {
    this.#chat.store(session.album, session.state.epoch, chat.map(chatFromWire));
  }

  chatBefore(album: string, epoch: number): ArchivedChat[] {
    return this.#chat.history(album, epoch);
  }

  /** Logs a merged hand-off (with the new member index if it changed); checkpoints now and then. */
  logHandOff(
    session: OpenSession,
    encoded: Uint8Array,
    members: readonly string[] | undefined,
  ): void {
    this.store.appendAlbumDelta(session.album, encoded, members);
    session.logEntries++;
    session.logBytes += encoded.byteLength;
    if (
      session.logEntries >= CHECKPOINT_AFTER_ENTRIES ||
      session.logBytes >= CHECKPOINT_AFTER_BYTES
    ) {
      this.store.checkpointAlbum(
        session.album,
        encodeState(session.state),
        members ?? listMembers(session.state),
        true,
      );
      session.logEntries = 0;
      session.logBytes = 0;
    }
  }

  /** The session ended: compacted into the next epoch; its slot table goes. */
  endSession(session: OpenSession): AlbumState {
    const next = compact(session.state);
    this.store.checkpointAlbum(session.album, encodeState(next), listMembers(next), false);
    this.#slotTable.clear(session.album);
    return next;
  }
}
