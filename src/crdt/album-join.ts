// The join of the album lattice: the least upper bound of two replicas (or of a
// replica and a delta). Everything is a grow-only union except the per-slot
// rating aggregates (highest counter wins), and an add is dropped once some
// removal names its dot. Commutative, associative and idempotent, so deltas may
// arrive in any order, duplicated or batched. Never joins across epochs.
import { failedPrecondition } from "../common/album-error.ts";
import { contextJoinInto } from "./causal-context.ts";
import {
  cloneState,
  putFile,
  putMember,
  putRating,
  putRemoval,
  type AlbumState,
} from "./album-state.ts";
import { forgetViews } from "./view-cache.ts";

/** Refuses to combine data of two different epochs (session numbers). */
export function assertSameEpoch(local: number, remote: number): void {
  if (local !== remote) {
    throw failedPrecondition(
      `album replica of session ${remote} cannot be merged into session ${local}` +
        (remote < local ? ": it is stale, fetch the album again" : ": fetch the newer album first"),
    );
  }
}

/** target := target ⊔ source, in place. `source` is not changed. */
export function mergeInto(target: AlbumState, source: AlbumState): void {
  assertSameEpoch(target.epoch, source.epoch);
  if (target === source) return;
  contextJoinInto(target.causal, source.causal);
  // Removals first, so adds they name are never (re)inserted.
  for (const [key, removal] of source.removals) putRemoval(target, key, removal);
  for (const [key, name] of source.members) putMember(target, key, name);
  for (const [key, entry] of source.files) putFile(target, key, entry);
  for (const rating of source.ratings.values()) putRating(target, rating);
  forgetViews(target);
}

/** a ⊔ b as a new state; neither input changes. */
export function join(a: AlbumState, b: AlbumState): AlbumState {
  assertSameEpoch(a.epoch, b.epoch);
  // Copy the larger side and fold the smaller one in: merging a delta stays cheap.
  const [large, small] =
    a.files.size + a.members.size >= b.files.size + b.members.size ? [a, b] : [b, a];
  const result = cloneState(large);
  mergeInto(result, small);
  return result;
}
