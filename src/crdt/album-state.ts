// The album replica as plain data: the lattice element that states and deltas
// share, and the only helpers allowed to change its maps (so the derived
// indexes stay right). Pure: no sockets, clocks or files. Content keys live
// here because downloads need them, but nothing in this folder may print one.
import { cloneContext, emptyContext, type CausalContext } from "./causal-context.ts";
import { BASE_SLOT, dotKey, type DotKey, type SessionSlot } from "./dot.ts";
import type { FileMedia } from "./file-media.ts";

/** Stable identity of a file, 16 lowercase hex digits (see docs/crdt.md). */
export type FileId = string;
/** SHA-256 of a file's content, 64 lowercase hex digits. A capability: never display it. */
export type ContentKey = string;

export interface RatingTotal {
  readonly sum: number;
  readonly count: number;
}

/** One add of a file under a name. Immutable once created (shared between states). */
export interface FileEntry {
  readonly name: string;
  readonly contentKey: ContentKey;
  readonly size: number;
  readonly addedBy: string;
  /** The epoch of the add; with name and content it determines the FileId (see fileIdOf). */
  readonly epochAdded: number;
  /** Base entries only: the ratings compaction folded in. */
  readonly baseRating?: RatingTotal;
  /** Renditions and metadata, when the adder recorded them (see file-media.ts). */
  readonly media?: FileMedia;
}

/** The ratings one slot gave one file during the epoch (linear per slot: highest counter wins). */
export interface SlotRating {
  readonly fileId: FileId;
  readonly slot: SessionSlot;
  readonly counter: number;
  readonly sum: number;
  readonly count: number;
}

/** One remove event: the add dots it observed. */
export interface Removal {
  readonly removed: readonly DotKey[];
  /** Member removals: a user the remover expected to stay (see docs/crdt.md, empty group). */
  readonly witness?: string;
}

/**
 * An album replica, or a delta (a delta is a small replica of the same lattice).
 * Treat it as read-only outside this folder: change it only through the
 * operations, `mergeInto` and `compact`.
 */
export interface AlbumState {
  /** Session number; states of different epochs never merge. */
  readonly epoch: number;
  /** Every event dot of this epoch whose effect the state holds. */
  readonly causal: CausalContext;
  /** Live member adds: dot -> user name. */
  readonly members: Map<DotKey, string>;
  /** Live file adds: dot -> entry. */
  readonly files: Map<DotKey, FileEntry>;
  /** Remove events of this epoch, by their own dot (dropped by compaction). */
  readonly removals: Map<DotKey, Removal>;
  /** Rating aggregates of this epoch, by ratingKey(fileId, slot). */
  readonly ratings: Map<string, SlotRating>;
  /** Derived, not encoded: every dot that some removal removed. */
  readonly removedDots: Set<DotKey>;
  /** Derived, not encoded: live file dots by file name (arrays never mutated, so clones share them). */
  readonly fileDotsByName: Map<string, readonly DotKey[]>;
}

/** A delta is a state; the alias says which role a value plays. */
export type AlbumDelta = AlbumState;

export const ratingKey = (fileId: FileId, slot: SessionSlot): string => `${fileId}:${slot}`;

export function emptyState(epoch: number): AlbumState {
  return {
    epoch,
    causal: emptyContext(),
    members: new Map(),
    files: new Map(),
    removals: new Map(),
    ratings: new Map(),
    removedDots: new Set(),
    fileDotsByName: new Map(),
  };
}

/** A deep copy of the maps; entries are immutable and shared. */
export function cloneState(state: AlbumState): AlbumState {
  return {
    epoch: state.epoch,
    causal: cloneContext(state.causal),
    members: new Map(state.members),
    files: new Map(state.files),
    removals: new Map(state.removals),
    ratings: new Map(state.ratings),
    removedDots: new Set(state.removedDots),
    fileDotsByName: new Map(state.fileDotsByName),
  };
}

/** The base dot of the n-th (1-based) element compaction folded in. */
export const baseDot = (index: number): DotKey => dotKey(BASE_SLOT, index);

// ---- the only writers of the maps -------------------------------------------

/** Adds a file entry unless a removal already removed its dot. */
export function putFile(state: AlbumState, key: DotKey, entry: FileEntry): void {
  if (state.files.has(key) || state.removedDots.has(key)) return;
  state.files.set(key, entry);
  const dots = state.fileDotsByName.get(entry.name);
  state.fileDotsByName.set(entry.name, dots ? [...dots, key] : [key]);
}

function dropFile(state: AlbumState, key: DotKey): void {
  const entry = state.files.get(key);
  if (!entry) return;
  state.files.delete(key);
  const dots = state.fileDotsByName.get(entry.name)!.filter((dot) => dot !== key);
  if (dots.length === 0) state.fileDotsByName.delete(entry.name);
  else state.fileDotsByName.set(entry.name, dots);
}

export function putMember(state: AlbumState, key: DotKey, name: string): void {
  if (state.members.has(key) || state.removedDots.has(key)) return;
  state.members.set(key, name);
}

/** Records a remove event and drops the adds it removed (now or when they arrive later). */
export function putRemoval(state: AlbumState, key: DotKey, removal: Removal): void {
  if (state.removals.has(key)) return;
  state.removals.set(key, removal);
  for (const removed of removal.removed) {
    state.removedDots.add(removed);
    dropFile(state, removed);
    state.members.delete(removed);
  }
}

/** Keeps the newer of two aggregates of the same (file, slot); ties broken totally. */
export function putRating(state: AlbumState, rating: SlotRating): void {
  const key = ratingKey(rating.fileId, rating.slot);
  const current = state.ratings.get(key);
  if (!current || isNewer(rating, current)) state.ratings.set(key, rating);
}

function isNewer(a: SlotRating, b: SlotRating): boolean {
  if (a.counter !== b.counter) return a.counter > b.counter;
  if (a.count !== b.count) return a.count > b.count;
  return a.sum > b.sum;
}
