// Anti-entropy for the album: a replica sends its causal context (what it has
// seen, O(editors of the session) in size); the other answers with exactly the
// events it lacks. Removals are events with their own dots, so a replica that
// already saw an add also learns of its later removal.
import { cloneContext, contextHas, type CausalContext } from "./causal-context.ts";
import { BASE_SLOT, dotKey, slotOf, type SessionSlot } from "./dot.ts";
import {
  emptyState,
  putFile,
  putMember,
  putRating,
  putRemoval,
  type AlbumDelta,
  type AlbumState,
} from "./album-state.ts";
import { assertSameEpoch } from "./album-join.ts";
import { highestInContext } from "./causal-context.ts";

/** What a replica has seen: its epoch and causal context. */
export interface AlbumContext {
  readonly epoch: number;
  readonly causal: CausalContext;
}

export function causalContextOf(state: AlbumState): AlbumContext {
  return { epoch: state.epoch, causal: cloneContext(state.causal) };
}

/**
 * The delta holding every event of `state` that `remote` has not seen. Its
 * context is the whole local context: for dots the remote lacks, the delta
 * carries their effect (a live add, a removal, or a rating aggregate that
 * includes it); the others the remote has already.
 */
export function missingFrom(state: AlbumState, remote: AlbumContext): AlbumDelta {
  assertSameEpoch(state.epoch, remote.epoch);
  const delta = emptyState(state.epoch);
  const lacks = (key: number): boolean =>
    slotOf(key) !== BASE_SLOT && !contextHas(remote.causal, key);
  for (const [key, removal] of state.removals) if (lacks(key)) putRemoval(delta, key, removal);
  for (const [key, name] of state.members) if (lacks(key)) putMember(delta, key, name);
  for (const [key, entry] of state.files) if (lacks(key)) putFile(delta, key, entry);
  for (const rating of state.ratings.values()) {
    if (lacks(dotKey(rating.slot, rating.counter))) putRating(delta, rating);
  }
  for (const [slot, counter] of state.causal.versionVector)
    delta.causal.versionVector.set(slot, counter);
  for (const key of state.causal.cloud) delta.causal.cloud.add(key);
  return delta;
}

/**
 * The highest counter of `slot` this state has seen in its epoch (0 if none).
 * An editor given a reused slot continues above it; see docs/crdt.md.
 */
export function highestCounter(state: AlbumState, slot: SessionSlot): number {
  return highestInContext(state.causal, slot);
}
