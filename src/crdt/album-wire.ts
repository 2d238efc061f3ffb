// The field numbers of albumshare.crdt.v1 (proto/albumshare/crdt/v1/album.proto)
// and the canonical-form rules both directions of the album codec share: how
// file names are prefix-compressed and how ratings are ordered. Pure; it
// never reads or writes bytes itself.
import type { SlotRating } from "./album-state.ts";

// Field numbers, as in album.proto.
export const STATE = {
  epoch: 1,
  causal: 2,
  users: 3,
  members: 4,
  files: 5,
  removals: 6,
  ratings: 7,
};
export const CONTEXT = { epoch: 1, causal: 2 };
export const CAUSAL = { versionVector: 1, cloud: 2 };
export const DOT = { slot: 1, counter: 2 };
export const MEMBER = { slot: 1, counter: 2, user: 3 };
export const FILE = {
  slot: 1,
  counter: 2,
  namePrefix: 3,
  nameSuffix: 4,
  contentKey: 5,
  size: 6,
  addedBy: 7,
  epochAdded: 8,
  ratingSum: 9,
  ratingCount: 10,
  media: 11,
};
export const REMOVAL = { slot: 1, counter: 2, removed: 3, witness: 4 };
export const RATING = { fileId: 1, slot: 2, counter: 3, sum: 4, count: 5 };

/** Longest common prefix in UTF-16 code units, never ending inside a surrogate pair. */
export function sharedPrefix(previous: string, name: string): number {
  const limit = Math.min(previous.length, name.length);
  let length = 0;
  while (length < limit && previous.charCodeAt(length) === name.charCodeAt(length)) length++;
  if (length > 0 && isHighSurrogate(name.charCodeAt(length - 1))) length--;
  return length;
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;

export const byFileAndSlot = (a: SlotRating, b: SlotRating): number =>
  a.fileId < b.fileId ? -1 : a.fileId > b.fileId ? 1 : a.slot - b.slot;
