// The central server's copy of an album's metadata replica: the encoded CRDT
// state (src/crdt). A new album starts with its creator as the only member;
// the member index in the database is derived from the replica.
import { createAlbumState, encodeState } from "../crdt/index.ts";

export function initialReplica(creator: string): Uint8Array {
  return encodeState(createAlbumState(creator));
}
