// The settings and the public shapes of EditingSessions (editing-sessions.ts):
// its defaults, its options, and what getAlbum gives an editor. Types and
// constants only.
import type { Logger } from "../../common/logger.ts";
import type {
  RatingTally as RatingTallyWire,
  SessionEditor,
} from "../../gen/albumshare/central/v1/central_pb.ts";
import type { CentralStore } from "../central-store.ts";
import type { OpenedSession } from "./open-session.ts";

export const DEFAULT_HAND_OFF_INTERVAL_MS = 1000;
/** How long an editor whose connection dropped keeps its slot (docs/sessions.md). */
export const DEFAULT_RESUME_GRACE_MS = 60_000;
/** How often away slots and pending removals are looked at. */
export const SWEEP_INTERVAL_MS = 250;
/**
 * Hand-off periods a removal waits before it is enforced on the merged
 * state: every editor hands its unacknowledged changes off each period, so
 * by then the server has what they did concurrently with the removal.
 */
export const REMOVAL_SETTLE_PERIODS = 2;

/** What getAlbum gives an editor besides the session: what the peers check each other by. */
export interface VouchedSession extends OpenedSession {
  readonly sessionToken: Uint8Array;
  readonly ratingTallies: RatingTallyWire[];
  readonly highestSlot: number;
  readonly pastEditors: SessionEditor[];
}

export interface EditingSessionsOptions {
  store: CentralStore;
  logger: Logger;
  /** How long an away editor keeps its slot (default 60 s). */
  resumeGraceMs?: number;
  /** The hand-off period editors are told (sets how long a removal settles). */
  handOffIntervalMs?: number;
  /** Clock (ms); default Date.now. */
  now?: () => number;
  /** 0: no timer; the caller calls sweep() (a simulation). Default 250 ms. */
  sweepIntervalMs?: number;
}
