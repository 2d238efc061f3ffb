// FileId: the stable identity of a file, used by the central server's per-user
// "already rated" record. Derived from (epoch of the add, name, content key) so
// that concurrent adds of the same content under the same name in one session
// agree on it without coordination, and a file re-added in a later session (or
// with other content) is a new file. Not stored: derived (and memoized) when a
// listing needs it. A one-way hash: it must never reveal the content key.
import { createHash } from "node:crypto";
import type { ContentKey, FileEntry, FileId } from "./album-state.ts";

const memo = new WeakMap<FileEntry, FileId>();

export function fileIdOf(entry: FileEntry): FileId {
  let id = memo.get(entry);
  if (id === undefined) {
    id = deriveFileId(entry.epochAdded, entry.name, entry.contentKey);
    memo.set(entry, id);
  }
  return id;
}

export function deriveFileId(epoch: number, name: string, contentKey: ContentKey): FileId {
  return createHash("sha256")
    .update(`albumshare file id v1\u0000${epoch}\u0000${name}\u0000${contentKey}`)
    .digest("hex")
    .slice(0, 16);
}
