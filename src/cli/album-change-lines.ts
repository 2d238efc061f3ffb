// The lines a person sees when another editor changes the album's files:
// "* bob added beach.jpg", "* bob rated beach.jpg 4 (avg 3.0 of 2)", and, when
// many arrive at once, one line per editor and kind ("* bob added 12 files").
// Pure formatting; names go through printable() (they come from other editors).
import type { FileChange } from "../client/session/file-changes.ts";
import { printable } from "./session-event-lines.ts";

export interface FilesChanged {
  by: string | undefined;
  changes: FileChange[];
}

/** More than this many changes of one kind by one editor make one line. */
export const GROUP_ABOVE = 3;

export function albumChangeLines(batches: readonly FilesChanged[]): string[] {
  // Grouped by editor and kind, in the order they arrived.
  const groups = new Map<
    string,
    { who: string; kind: FileChange["kind"]; changes: FileChange[] }
  >();
  for (const batch of batches) {
    for (const change of batch.changes) {
      const who = change.kind === "added" ? change.addedBy : (batch.by ?? "another editor");
      const key = `${who}\u0000${change.kind}`;
      const group = groups.get(key) ?? { who, kind: change.kind, changes: [] };
      group.changes.push(change);
      groups.set(key, group);
    }
  }
  const lines: string[] = [];
  for (const { who, kind, changes } of groups.values()) {
    const name = printable(who);
    if (changes.length > GROUP_ABOVE) {
      lines.push(`* ${name} ${kind} ${changes.length} files`);
      continue;
    }
    for (const change of changes) lines.push(`* ${name} ${describe(change)}`);
  }
  return lines;
}

function describe(change: FileChange): string {
  const file = printable(change.name);
  switch (change.kind) {
    case "added":
      return `added ${file}`;
    case "removed":
      return `removed ${file}`;
    case "rated": {
      const stars = change.stars === null ? "" : ` ${change.stars}`;
      const average =
        change.average === null ? "" : ` (avg ${change.average.toFixed(1)} of ${change.ratings})`;
      return `rated ${file}${stars}${average}`;
    }
  }
}
