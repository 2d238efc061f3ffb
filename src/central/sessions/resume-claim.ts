// The rule that decides whether a returning editor may take its slot back
// (docs/crdt.md, "Resuming without reusing a dot"): the slot must be held
// (away or not) by the same user, who presents the slot's resume key, and
// its replica must hold every event of its own slot the server has seen —
// then it alone goes on numbering that slot, above everything it numbered
// before. A slot retired meanwhile cannot be taken back, but its late
// holder's changes may still be merged (nobody else ever numbers that slot).
// A claim whose counter is below the server's copy is refused as behind,
// with the server's counter, so the holder can tell a race (its later events
// reached the server through a peer while the claim was in flight) from a
// replica that really is behind; the rule itself never bends.
// Pure: it reads the open session and decides; EditingSessions acts.
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import { highestCounter } from "../../crdt/index.ts";
import { ResumeOutcome, type ChatRecord } from "../../gen/albumshare/central/v1/central_pb.ts";
import type { ConnectionState } from "../handler-context.ts";
import type { OpenSession, ResumeResult } from "./open-session.ts";
import { resumeKeyMatches } from "./resume-keys.ts";
import type { SlotHolder } from "./session-slots.ts";

/** What an editor states when it comes back (ResumeAlbumRequest). */
export interface ResumeClaim {
  readonly epoch: number;
  readonly slot: number;
  readonly resumeKey: Uint8Array;
  /** The highest counter of its own slot in its replica. */
  readonly counter: bigint;
  readonly delta: Uint8Array;
  readonly chat: readonly ChatRecord[];
  readonly address: string;
}

export type ResumeDecision =
  | { kind: "reclaim"; holder: SlotHolder<ConnectionState> }
  | { kind: "handOffOnly" }
  /** Refused: the server's copy holds counter `known` of the slot, above the claim's. */
  | { kind: "counterBehind"; known: bigint };

/**
 * Decides a claim on an open session of the album; throws when it must be
 * refused, but for a counter below the server's copy (counterBehind).
 */
export function decideResume(
  session: OpenSession | undefined,
  albumName: string,
  user: string,
  claim: ResumeClaim,
): ResumeDecision {
  if (!session || session.state.epoch !== claim.epoch) {
    throw new AlbumError(
      ErrorCode.FailedPrecondition,
      `stale replica: the editing session of '${session?.album ?? albumName}' you were in has ended; open the album again`,
    );
  }
  const holder = session.slots.holder(claim.slot);
  if (holder && holder.user === user && resumeKeyMatches(claim.resumeKey, holder.resumeKeyHash)) {
    // The replica must hold every event of its own slot the server has
    // seen; otherwise it would number new events with used dots.
    const known = BigInt(highestCounter(session.state, claim.slot));
    if (known > claim.counter) return { kind: "counterBehind", known };
    return { kind: "reclaim", holder };
  }
  const retired = session.slots.retired(claim.slot);
  if (
    retired &&
    retired.user === user &&
    resumeKeyMatches(claim.resumeKey, retired.resumeKeyHash)
  ) {
    return { kind: "handOffOnly" };
  }
  throw new AlbumError(
    ErrorCode.PermissionDenied,
    `slot ${claim.slot} of '${session.album}' is not yours to resume`,
  );
}

/** The reply to a claim refused as counterBehind: the server's counter, and what to do. */
export function counterBehindResult(
  album: string,
  claim: ResumeClaim,
  known: bigint,
): ResumeResult {
  return {
    outcome: ResumeOutcome.COUNTER_BEHIND,
    editors: [],
    ratingTallies: [],
    highestSlot: 0,
    knownCounter: known,
    reason: `your replica is behind the server's copy of slot ${claim.slot} in '${album}' (counter ${claim.counter} < ${known}); open the album again`,
  };
}
