// The rule that decides whether a returning editor may take its slot back
// (docs/crdt.md, "Resuming without reusing a dot"): the slot must be held
// (away or not) by the same user, who presents the slot's resume key, and
// its replica must hold every event of its own slot the server has seen —
// then it alone goes on numbering that slot, above everything it numbered
// before. A slot retired meanwhile cannot be taken back, but its late
// holder's changes may still be merged (nobody else ever numbers that slot).
// Pure: it reads the open session and decides; EditingSessions acts.
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import { highestCounter } from "../../crdt/index.ts";
import type { ChatRecord } from "../../gen/albumshare/central/v1/central_pb.ts";
import type { ConnectionState } from "../handler-context.ts";
import type { OpenSession } from "./open-session.ts";
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
  { kind: "reclaim"; holder: SlotHolder<ConnectionState> } | { kind: "handOffOnly" };

/** Decides a claim on an open session of the album; throws when it must be refused. */
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
    const known = highestCounter(session.state, claim.slot);
    if (BigInt(known) > claim.counter) {
      throw new AlbumError(
        ErrorCode.FailedPrecondition,
        `your replica is behind the server's copy of slot ${claim.slot} (counter ${claim.counter} < ${known}); open the album again`,
      );
    }
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
