// Merges one editor's hand-off into the central server's replica of an open
// session: the delta must be of the session's epoch and pass the audit
// (no invented slots, no ratings beyond the rate-once records) before
// anything of it is merged. Pure over the session's state: storing the
// delta durably and enforcing removals stay with EditingSessions.
// It never merges part of a refused delta.
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import { decodeDelta, listMembers, mergeInto, type AlbumState } from "../../crdt/index.ts";
import { auditDelta, type AuditRules } from "../../crdt/delta-audit.ts";

export type HandOffMerge =
  /** No event at all (e.g. only chat): nothing merged, nothing to log. */
  | { kind: "empty" }
  /** Merged; `members` is the new member list when the delta changed it. */
  | { kind: "merged"; members?: readonly string[] };

/**
 * Decodes, checks and merges `encoded` into `state` (of album `album`).
 * Throws FailedPrecondition for another epoch's delta, PermissionDenied for
 * one the audit refuses (`problem` names why, for the log).
 */
export function mergeHandOff(
  album: string,
  state: AlbumState,
  encoded: Uint8Array,
  rules: AuditRules,
  refused: (problem: string) => void,
): HandOffMerge {
  const delta = decodeDelta(encoded);
  if (delta.epoch !== state.epoch) {
    throw new AlbumError(
      ErrorCode.FailedPrecondition,
      `stale replica: it is of session ${delta.epoch} of '${album}', which is in session ${state.epoch}`,
    );
  }
  // The base of an epoch is the same in every replica.
  if (delta.causal.versionVector.size === 0 && delta.causal.cloud.size === 0) {
    return { kind: "empty" };
  }
  // A member may edit, but not invent slots nor ratings nobody gave.
  const forged = auditDelta(state, delta, rules);
  if (forged !== undefined) {
    refused(forged);
    throw new AlbumError(ErrorCode.PermissionDenied, `hand-off refused: ${forged}`);
  }
  const membersBefore = listMembers(state);
  mergeInto(state, delta);
  const members = listMembers(state);
  return sameList(membersBefore, members) ? { kind: "merged" } : { kind: "merged", members };
}

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((item, index) => item === b[index]);
