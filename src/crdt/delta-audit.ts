// What a delta from someone else may contain, checked before it is merged: the
// CRDT accepts any well-formed delta, but in an editing session only the slots
// the central server handed out exist, the base (slot 0) is fixed when the
// epoch starts, and no file may count more ratings, or more stars, than the
// central server recorded (rate-once). Used by the central server on every
// hand-off and by every editor on every remote delta, so a forged event is
// refused wherever it arrives. Pure; reads the state, never changes it, and
// costs the size of the delta (the album is walked only when the delta
// carries ratings, which is rare).
import { MAX_STARS } from "./album-names.ts";
import { ratingKey, type AlbumDelta, type AlbumState, type FileId } from "./album-state.ts";
import { BASE_SLOT, formatDot, slotOf, type DotKey } from "./dot.ts";
import { fileIdOf } from "./file-id.ts";

/** The central server's rate-once record of one file. */
export interface RatingTally {
  /** Users who rated the file. */
  readonly raters: number;
  /** The sum of their stars (a rating recorded without stars counts as the maximum). */
  readonly stars: number;
}

export interface AuditRules {
  /** Slots 1..highestSlot were handed out in this session; no other slot exists. */
  readonly highestSlot: number;
  /** The record of a file; undefined: nobody rated it. */
  ratingTally(fileId: FileId): RatingTally | undefined;
}

/** Why `delta` must not be merged into `state`, or undefined when it may. */
export function auditDelta(
  state: AlbumState,
  delta: AlbumDelta,
  rules: AuditRules,
): string | undefined {
  if (delta.epoch !== state.epoch) return undefined; // the merge refuses it with its own message
  const badSlot = (slot: number): boolean => slot < 1 || slot > rules.highestSlot;
  for (const [slot] of delta.causal.versionVector) {
    if (badSlot(slot)) return `events of slot ${slot}, which no editor of this session held`;
  }
  for (const key of delta.causal.cloud) {
    if (badSlot(slotOf(key))) return `event ${formatDot(key)} of a slot no editor held`;
  }
  const knownBase = (key: DotKey): boolean =>
    state.files.has(key) || state.members.has(key) || state.removedDots.has(key);
  for (const keys of [delta.members.keys(), delta.files.keys(), delta.removals.keys()]) {
    for (const key of keys) {
      const slot = slotOf(key);
      if (slot === BASE_SLOT ? !knownBase(key) : badSlot(slot)) {
        return `event ${formatDot(key)} that this session never made`;
      }
    }
  }
  if (delta.ratings.size === 0) return undefined;
  return auditRatings(state, delta, rules);
}

function auditRatings(state: AlbumState, delta: AlbumDelta, rules: AuditRules): string | undefined {
  const touched = new Set<FileId>();
  for (const rating of delta.ratings.values()) {
    if (rating.slot < 1 || rating.slot > rules.highestSlot) {
      return `a rating aggregate of slot ${rating.slot}, which no editor of this session held`;
    }
    if (rating.sum > rating.count * MAX_STARS) {
      return `a rating aggregate of ${rating.sum} stars in ${rating.count} ratings`;
    }
    touched.add(rating.fileId);
  }
  const totals = new Map<FileId, { count: number; sum: number }>();
  for (const fileId of touched) totals.set(fileId, { count: 0, sum: 0 });
  // Ratings compaction folded into base entries (one base entry per file).
  const seenBase = new Set<FileId>();
  for (const [key, entry] of state.files) {
    if (slotOf(key) !== BASE_SLOT || !entry.baseRating) continue;
    const fileId = fileIdOf(entry);
    const total = totals.get(fileId);
    if (!total || seenBase.has(fileId)) continue;
    seenBase.add(fileId);
    total.count += entry.baseRating.count;
    total.sum += entry.baseRating.sum;
  }
  // This epoch's aggregates after the merge: per (file, slot), the newer one.
  const winners = new Map<string, { count: number; sum: number; counter: number }>();
  for (const rating of state.ratings.values()) {
    if (touched.has(rating.fileId)) winners.set(ratingKey(rating.fileId, rating.slot), rating);
  }
  for (const rating of delta.ratings.values()) {
    const key = ratingKey(rating.fileId, rating.slot);
    const current = winners.get(key);
    if (!current || isNewer(rating, current)) winners.set(key, rating);
  }
  for (const [key, rating] of winners) {
    const total = totals.get(key.slice(0, key.lastIndexOf(":")))!;
    total.count += rating.count;
    total.sum += rating.sum;
  }
  for (const [fileId, total] of totals) {
    const tally = rules.ratingTally(fileId) ?? { raters: 0, stars: 0 };
    if (total.count > tally.raters) {
      return `file ${fileId} would count ${total.count} ratings, but ${tally.raters} users rated it`;
    }
    if (total.sum > tally.stars) {
      return `file ${fileId} would sum ${total.sum} stars, but its ratings gave ${tally.stars}`;
    }
  }
  return undefined;
}

// The same order as the merge's (album-state.ts, putRating).
function isNewer(
  a: { counter: number; count: number; sum: number },
  b: { counter: number; count: number; sum: number },
): boolean {
  if (a.counter !== b.counter) return a.counter > b.counter;
  if (a.count !== b.count) return a.count > b.count;
  return a.sum > b.sum;
}
