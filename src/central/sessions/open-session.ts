// One album's open editing session as the central server holds it in memory:
// its decoded replica, its slots, and the bookkeeping of its log and of a
// pending removal. Plain data; EditingSessions owns the rules.
import type { AlbumState } from "../../crdt/index.ts";
import type {
  ChatRecord,
  RatingTally,
  ResumeOutcome,
  SessionEditor,
} from "../../gen/albumshare/central/v1/central_pb.ts";
import type { ConnectionState } from "../handler-context.ts";
import { PendingRemovals } from "./pending-removals.ts";
import type { SessionSlots } from "./session-slots.ts";

/** What getAlbum gives an editor. */
export interface OpenedSession {
  readonly album: string;
  readonly slot: number;
  readonly sessionId: bigint;
  readonly replica: Uint8Array;
  readonly ratedFileIds: string[];
  readonly editors: SessionEditor[];
  readonly resumeKey: Uint8Array;
  readonly chatHistory: ChatRecord[];
  readonly resumeGraceMs: number;
  /** The highest chat number the slot's earlier holders used (0 for a fresh slot). */
  readonly chatSeq: number;
}

export type { ResumeClaim } from "./resume-claim.ts";

export interface ResumeResult {
  readonly outcome: ResumeOutcome;
  readonly editors: SessionEditor[];
  readonly reason: string;
  /** What getAlbum vouches for, as it stands now (resumed only; empty otherwise). */
  readonly ratingTallies: RatingTally[];
  readonly highestSlot: number;
  /** The server's highest counter of the claimed slot (outcome COUNTER_BEHIND only). */
  readonly knownCounter?: bigint;
}

export interface OpenSession {
  readonly album: string;
  readonly albumId: number;
  readonly state: AlbumState;
  readonly slots: SessionSlots<ConnectionState>;
  /** Hand-offs logged since the last checkpoint, and their bytes. */
  logEntries: number;
  logBytes: number;
  /** Holders the merged album left out, waiting for their removal to settle. */
  readonly removals: PendingRemovals;
}

export function openSession(
  album: string,
  albumId: number,
  state: AlbumState,
  slots: SessionSlots<ConnectionState>,
): OpenSession {
  const removals = new PendingRemovals();
  return { album, albumId, state, slots, logEntries: 0, logBytes: 0, removals };
}

/** Open sessions are found by album name in lower case (names are ASCII, compared case-insensitively). */
export const sessionKey = (album: string): string => album.toLowerCase();

/** Unique per (album, epoch): peers of an earlier session of the album are ignored. */
export function sessionIdOf(session: OpenSession): bigint {
  return (BigInt(session.albumId) << 32n) | BigInt(session.state.epoch);
}
