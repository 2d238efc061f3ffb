// The central server's view of an album's metadata replica. Until the CRDT
// module is wired in, a new album has no encoded replica and its member group
// lives in the album_members table; the CRDT work replaces this with the
// encoded CRDT state.
export function initialReplica(_creator: string): Uint8Array | null {
  return null;
}
