// The central server's copy of an album's metadata replica: the encoded CRDT
// state (src/crdt). A new album starts with its creator as the only member;
// the member index in the database is derived from the replica. While an
// editing session is open the album is the stored replica plus its log of
// hand-offs; replayAlbum is the one place that puts them together.
import {
  createAlbumState,
  decodeDelta,
  decodeState,
  encodeState,
  mergeInto,
  type AlbumState,
} from "../crdt/index.ts";

export function initialReplica(creator: string): Uint8Array {
  return encodeState(createAlbumState(creator));
}

/** The stored replica with the log of its epoch merged in (each decoded once). */
export function replayAlbum(replica: Uint8Array, log: Iterable<Uint8Array>): AlbumState {
  const state = decodeState(replica);
  for (const delta of log) {
    const logged = decodeDelta(delta);
    // Only a log of the stored replica's epoch is ever written; anything else is ignored.
    if (logged.epoch === state.epoch) mergeInto(state, logged);
  }
  return state;
}
