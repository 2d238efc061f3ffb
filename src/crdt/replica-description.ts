// The debug view of a replica for `listReplica`: members, files, ratings and
// causal metadata, in a stable order, as labelled and aligned tables. It must never show a content key (they
// are capabilities); files are shown by display name, FileId and size.
import { ascending, dotKey, formatDot } from "./dot.ts";
import type { AlbumState } from "./album-state.ts";
import { listFiles } from "./album-files.ts";
import { isWitnessFallback, listMembers } from "./album-members.ts";
import { textTable } from "./text-table.ts";
import { formatBytes } from "../common/format-bytes.ts";

export function describeReplica(state: AlbumState): string {
  const lines: string[] = [`album replica, epoch ${state.epoch}`];

  const vector = [...state.causal.versionVector.entries()].sort((a, b) => a[0] - b[0]);
  const cloud = [...state.causal.cloud].sort(ascending).map(formatDot);
  lines.push(
    "causal context (slot.counter: the editor's slot and its n-th change):",
    `  version vector {${vector.map(([slot, counter]) => `${slot}:${counter}`).join(", ")}}` +
      "  (every change up to these counters seen)",
    `  cloud {${cloud.join(", ")}}  (changes seen beyond the vector)`,
  );

  const members = listMembers(state);
  const dotsOf = (name: string): string =>
    [...state.members.entries()]
      .filter(([, member]) => member === name)
      .map(([key]) => key)
      .sort(ascending)
      .map(formatDot)
      .join(" ");
  lines.push(
    `members (${members.length})${isWitnessFallback(state) ? " [restored after concurrent removals]" : ""}:`,
    ...indent(
      textTable(
        ["name", "added by changes"],
        members.map((name) => [name, dotsOf(name) || "-"]),
      ),
    ),
  );

  const files = listFiles(state);
  lines.push(
    `files (${files.length}):`,
    ...indent(
      textTable(
        ["name", "file id", "size", "added by", "rating", "added by changes"],
        files.map((file) => [
          file.displayName,
          file.fileId,
          formatBytes(file.size),
          file.addedBy,
          file.average === null ? "not rated" : `${file.average.toFixed(2)} of ${file.ratingCount}`,
          file.dots.map(formatDot).join(" "),
        ]),
      ),
    ),
  );

  const ratings = [...state.ratings.values()].sort((a, b) =>
    a.fileId < b.fileId ? -1 : a.fileId > b.fileId ? 1 : a.slot - b.slot,
  );
  lines.push(
    `rating aggregates of this session (${ratings.length}):`,
    ...indent(
      textTable(
        ["file id", "slot", "stars/ratings", "change"],
        ratings.map((rating) => [
          rating.fileId,
          String(rating.slot),
          `${rating.sum}/${rating.count}`,
          formatDot(dotKey(rating.slot, rating.counter)),
        ]),
      ),
    ),
  );

  const removals = [...state.removals.entries()].sort((a, b) => a[0] - b[0]);
  lines.push(
    `removals of this session (${removals.length}):`,
    ...indent(
      textTable(
        ["change", "removed changes", "expects to stay"],
        removals.map(([key, removal]) => [
          formatDot(key),
          removal.removed.map(formatDot).join(" "),
          removal.witness === undefined ? "-" : String(removal.witness),
        ]),
      ),
    ),
  );
  return lines.join("\n");
}

function indent(lines: readonly string[]): string[] {
  return lines.map((line) => `  ${line}`);
}
