// What another editor changed in the album's files, for people to see ("bob
// added beach.jpg", "bob rated beach.jpg 4"): the difference between two
// listings, taken before and after a remote delta was merged. Pure. Knows
// nothing of who sent the delta; the session names the sender.
import type { AlbumFile } from "../../crdt/index.ts";

export type FileChange =
  | { kind: "added"; name: string; size: number; addedBy: string }
  | { kind: "removed"; name: string }
  | {
      kind: "rated";
      name: string;
      /** The stars given when exactly one rating arrived, else null. */
      stars: number | null;
      average: number | null;
      ratings: number;
    };

/** What the listing needs to remember between deltas, by FileId. */
export type FileSnapshot = ReadonlyMap<
  string,
  { name: string; ratingCount: number; ratingSum: number }
>;

export function snapshotFiles(files: readonly AlbumFile[]): FileSnapshot {
  return new Map(
    files.map((file) => [
      file.fileId,
      { name: file.displayName, ratingCount: file.ratingCount, ratingSum: file.ratingSum },
    ]),
  );
}

export function fileChanges(before: FileSnapshot, after: readonly AlbumFile[]): FileChange[] {
  const changes: FileChange[] = [];
  const seen = new Set<string>();
  for (const file of after) {
    seen.add(file.fileId);
    const old = before.get(file.fileId);
    if (!old) {
      changes.push({
        kind: "added",
        name: file.displayName,
        size: file.size,
        addedBy: file.addedBy,
      });
      continue;
    }
    if (file.ratingCount > old.ratingCount) {
      const newRatings = file.ratingCount - old.ratingCount;
      changes.push({
        kind: "rated",
        name: file.displayName,
        stars: newRatings === 1 ? file.ratingSum - old.ratingSum : null,
        average: file.average,
        ratings: file.ratingCount,
      });
    }
  }
  for (const [fileId, old] of before) {
    if (!seen.has(fileId)) changes.push({ kind: "removed", name: old.name });
  }
  return changes;
}
