// The causal context of a replica: the set of event dots it has incorporated,
// kept compact as a version vector (every counter up to N for a slot) plus a
// dot cloud (dots seen out of order). The cloud is what lets deltas arrive in
// any order, duplicated or batched, without causal delivery. It never holds
// base dots (slot 0): every replica of an epoch has the whole base.
import { ascending, counterOf, dotKey, slotOf, type DotKey, type SessionSlot } from "./dot.ts";

export interface CausalContext {
  /** slot -> highest counter N such that all of 1..N were seen. */
  readonly versionVector: Map<SessionSlot, number>;
  /** Dots seen above the version vector, not contiguous with it. */
  readonly cloud: Set<DotKey>;
}

export const emptyContext = (): CausalContext => ({ versionVector: new Map(), cloud: new Set() });

export const cloneContext = (context: CausalContext): CausalContext => ({
  versionVector: new Map(context.versionVector),
  cloud: new Set(context.cloud),
});

export function contextHas(context: CausalContext, key: DotKey): boolean {
  const counter = counterOf(key);
  return counter <= (context.versionVector.get(slotOf(key)) ?? 0) || context.cloud.has(key);
}

/** Adds one dot, folding the cloud into the version vector where it becomes contiguous. */
export function contextAdd(context: CausalContext, key: DotKey): void {
  const slot = slotOf(key);
  const counter = counterOf(key);
  let highest = context.versionVector.get(slot) ?? 0;
  if (counter <= highest) return;
  if (counter > highest + 1) {
    context.cloud.add(key);
    return;
  }
  highest = counter;
  while (context.cloud.delete(dotKey(slot, highest + 1))) highest++;
  context.versionVector.set(slot, highest);
}

/** target := target ∪ source. */
export function contextJoinInto(target: CausalContext, source: CausalContext): void {
  let raised = false;
  for (const [slot, counter] of source.versionVector) {
    if (counter > (target.versionVector.get(slot) ?? 0)) {
      target.versionVector.set(slot, counter);
      raised = true;
    }
  }
  for (const key of source.cloud) contextAdd(target, key);
  if (raised && target.cloud.size > 0) normalizeCloud(target);
}

// After a version-vector entry rose, cloud dots below or next to it fold in.
function normalizeCloud(context: CausalContext): void {
  const keys = [...context.cloud].sort(ascending);
  context.cloud.clear();
  for (const key of keys) contextAdd(context, key);
}

/** The highest counter of `slot` in the context, 0 if none. */
export function highestInContext(context: CausalContext, slot: SessionSlot): number {
  let highest = context.versionVector.get(slot) ?? 0;
  for (const key of context.cloud) {
    if (slotOf(key) === slot && counterOf(key) > highest) highest = counterOf(key);
  }
  return highest;
}

/** True when the context knows an unbroken prefix 1..N of the slot's events (no gap). */
export function isContiguous(context: CausalContext, slot: SessionSlot): boolean {
  for (const key of context.cloud) if (slotOf(key) === slot) return false;
  return true;
}
