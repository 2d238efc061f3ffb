// The album CRDT: the public surface used by the client, the peer mesh and the
// central server. Everything here is pure (no sockets, clocks or files).
export type { DotKey, Dot, SessionSlot } from "./dot.ts";
export { BASE_SLOT, MAX_SLOT, MAX_COUNTER, dotKey, dotOf, formatDot } from "./dot.ts";
export type { CausalContext } from "./causal-context.ts";
export type {
  AlbumState,
  AlbumDelta,
  FileEntry,
  FileId,
  ContentKey,
  RatingTotal,
  SlotRating,
  Removal,
} from "./album-state.ts";
export type { FileMedia, MediaKind } from "./file-media.ts";
export { cloneState } from "./album-state.ts";
export { join, mergeInto, assertSameEpoch } from "./album-join.ts";
export type { EditorContext, NewFile } from "./album-operations.ts";
export { addFile, removeFile, rateFile, addMember, removeMember } from "./album-operations.ts";
export type { AlbumFile } from "./album-files.ts";
export { listFiles, findFile, requireFile, hasFileNamed } from "./album-files.ts";
export { listMembers, isMember } from "./album-members.ts";
export type { AlbumContext } from "./album-sync.ts";
export { causalContextOf, missingFrom, highestCounter } from "./album-sync.ts";
export { compact, createAlbumState, MAX_EPOCH } from "./album-compaction.ts";
export {
  encodeState,
  decodeState,
  encodeDelta,
  decodeDelta,
  encodeContext,
  decodeContext,
} from "./album-codec.ts";
export { describeReplica } from "./replica-description.ts";
export { MAX_STARS, MIN_STARS, checkFileName, checkUserName } from "./album-names.ts";
