// Dots: the identity of one event, (session slot, counter) within the current
// epoch. Slot 0 is reserved for the base (what compaction folded in), so live
// editors hold slots 1..MAX_SLOT. A dot is packed into one JS number so that
// maps and sets keyed by dots stay fast; it must never be used outside its epoch.

/** A session slot handed out by the central server; 0 is the base, never an editor. */
export type SessionSlot = number;

/** A dot packed as slot * 2^32 + counter (exact: slots stay below 2^16). */
export type DotKey = number;

export interface Dot {
  readonly slot: SessionSlot;
  readonly counter: number;
}

export const BASE_SLOT: SessionSlot = 0;
export const MAX_SLOT: SessionSlot = 0xffff;
export const MAX_COUNTER = 0xffff_ffff;

const COUNTER_SPACE = 0x1_0000_0000;

export const dotKey = (slot: SessionSlot, counter: number): DotKey =>
  slot * COUNTER_SPACE + counter;
export const slotOf = (key: DotKey): SessionSlot => Math.floor(key / COUNTER_SPACE);
export const counterOf = (key: DotKey): number => key % COUNTER_SPACE;
export const dotOf = (key: DotKey): Dot => ({ slot: slotOf(key), counter: counterOf(key) });

/** "2.17" for slot 2, counter 17; "base.3" for the third base element. */
export function formatDot(key: DotKey): string {
  const slot = slotOf(key);
  return `${slot === BASE_SLOT ? "base" : slot}.${counterOf(key)}`;
}

export const isEditorSlot = (slot: number): boolean =>
  Number.isInteger(slot) && slot >= 1 && slot <= MAX_SLOT;

export const isCounter = (counter: number): boolean =>
  Number.isInteger(counter) && counter >= 1 && counter <= MAX_COUNTER;

export const ascending = (a: number, b: number): number => a - b;
