// Vector clocks over session slots: for each slot, how many chat messages of
// that slot's holder(s) were delivered. Slots are small integers assigned by
// the central server and reused after a clean leave; a reused slot continues
// its predecessor's counter, so a clock is keyed by slot only, never by user.
// Pure values: never mutated after construction, no I/O. Zero counters are
// never stored, so equal clocks have equal entries.

/** A session slot, assigned by the central server (a small non-negative integer). */
export type SessionSlot = number;

/** Largest slot accepted from the wire (slots are small; this bounds memory). */
export const MAX_SESSION_SLOT = 0xffff;

/** Largest counter accepted from the wire (the wire type is uint32). */
export const MAX_CLOCK_COUNTER = 0xffff_ffff;

export type VectorClock = ReadonlyMap<SessionSlot, number>;

export interface ClockEntry {
  readonly slot: SessionSlot;
  readonly counter: number;
}

const EMPTY: VectorClock = new Map();

export function emptyClock(): VectorClock {
  return EMPTY;
}

export function counterOf(clock: VectorClock, slot: SessionSlot): number {
  return clock.get(slot) ?? 0;
}

/** A copy of `clock` with `slot` set to `counter`. */
export function withCounter(clock: VectorClock, slot: SessionSlot, counter: number): VectorClock {
  const next = new Map(clock);
  if (counter === 0) next.delete(slot);
  else next.set(slot, counter);
  return next;
}

/** Pointwise maximum. */
export function mergeClocks(a: VectorClock, b: VectorClock): VectorClock {
  if (b.size === 0) return a;
  if (a.size === 0) return b;
  const merged = new Map(a);
  for (const [slot, counter] of b) {
    if (counter > (merged.get(slot) ?? 0)) merged.set(slot, counter);
  }
  return merged;
}

/** True when `a` has seen everything `b` has (a >= b pointwise). */
export function dominates(a: VectorClock, b: VectorClock): boolean {
  for (const [slot, counter] of b) {
    if ((a.get(slot) ?? 0) < counter) return false;
  }
  return true;
}

export type ClockOrder = "equal" | "before" | "after" | "concurrent";

/** How `a` relates to `b` in the happened-before order. */
export function compareClocks(a: VectorClock, b: VectorClock): ClockOrder {
  const aCoversB = dominates(a, b);
  const bCoversA = dominates(b, a);
  if (aCoversB && bCoversA) return "equal";
  if (bCoversA) return "before";
  if (aCoversB) return "after";
  return "concurrent";
}

/** Entries sorted by slot, zero counters left out (the wire form). */
export function clockEntries(clock: VectorClock): ClockEntry[] {
  return [...clock]
    .filter(([, counter]) => counter > 0)
    .sort(([a], [b]) => a - b)
    .map(([slot, counter]) => ({ slot, counter }));
}

/**
 * Builds a clock from entries, or returns an error message when they are not
 * a valid clock (duplicate slot, slot or counter out of range). Entries come
 * from the network, so nothing is trusted.
 */
export function clockFromEntries(entries: Iterable<ClockEntry>): VectorClock | string {
  const clock = new Map<SessionSlot, number>();
  for (const { slot, counter } of entries) {
    if (!Number.isInteger(slot) || slot < 0 || slot > MAX_SESSION_SLOT) {
      return `slot ${slot} out of range 0..${MAX_SESSION_SLOT}`;
    }
    if (!Number.isInteger(counter) || counter < 0 || counter > MAX_CLOCK_COUNTER) {
      return `counter ${counter} of slot ${slot} out of range`;
    }
    if (clock.has(slot)) return `slot ${slot} appears twice in a clock`;
    if (counter > 0) clock.set(slot, counter);
  }
  return clock;
}

/** Compact text form for logs and test messages: "{0:3, 2:1}". */
export function formatClock(clock: VectorClock): string {
  return `{${clockEntries(clock)
    .map(({ slot, counter }) => `${slot}:${counter}`)
    .join(", ")}}`;
}
