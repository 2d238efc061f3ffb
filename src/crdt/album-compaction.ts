// Compaction, run by the central server when an album's editing session ends
// (the last editor left): all causal history of the epoch collapses into a
// base, and the epoch (session number) moves on. Afterwards the version vector,
// the dot cloud, the removals and the per-slot rating aggregates are empty, so
// their size depends only on the editors of one session, never on how many
// ever edited. Only the central server may compact, and only with no editor
// left: a replica of the old epoch can no longer be merged.
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import {
  baseDot,
  emptyState,
  putFile,
  putMember,
  type AlbumState,
  type FileEntry,
} from "./album-state.ts";
import { listFiles } from "./album-files.ts";
import { byCodeUnits, listMembers } from "./album-members.ts";
import { checkUserName } from "./album-names.ts";
import { MAX_COUNTER } from "./dot.ts";

export const MAX_EPOCH = 0xffff_ffff;

/**
 * The state of the next epoch: the same members and files (one base entry per
 * listed file, its ratings folded in), no causal history. Ratings of removed
 * files are dropped.
 */
export function compact(state: AlbumState): AlbumState {
  if (state.epoch >= MAX_EPOCH) {
    throw new AlbumError(ErrorCode.ResourceExhausted, "the album has used up its session numbers");
  }
  const next = emptyState(state.epoch + 1);
  const members = listMembers(state);
  const files = [...listFiles(state)].sort(
    (a, b) => byCodeUnits(a.name, b.name) || byCodeUnits(a.fileId, b.fileId),
  );
  if (members.length + files.length > MAX_COUNTER) {
    throw new AlbumError(ErrorCode.ResourceExhausted, "the album has too many entries to compact");
  }
  let index = 0;
  for (const name of members) putMember(next, baseDot(++index), name);
  for (const file of files) {
    // The entry that speaks for the file keeps its epoch of addition, hence its FileId.
    const representative = state.files.get(file.dots[0]!)!;
    const entry: FileEntry = {
      name: file.name,
      contentKey: file.contentKey,
      size: file.size,
      addedBy: file.addedBy,
      epochAdded: representative.epochAdded,
      ...(file.ratingCount > 0
        ? { baseRating: { sum: file.ratingSum, count: file.ratingCount } }
        : {}),
      ...(representative.media ? { media: representative.media } : {}),
    };
    putFile(next, baseDot(++index), entry);
  }
  return next;
}

/** A new album: epoch 1, the creator its only member, nothing else. */
export function createAlbumState(creator: string): AlbumState {
  const state = emptyState(1);
  putMember(state, baseDot(1), checkUserName(creator));
  return state;
}
