// The debug view of a replica for `listReplica`: members, files, ratings and
// causal metadata, in a stable order. It must never show a content key (they
// are capabilities); files are shown by display name, FileId and size.
import { ascending, dotKey, formatDot } from "./dot.ts";
import type { AlbumState } from "./album-state.ts";
import { listFiles } from "./album-files.ts";
import { isWitnessFallback, listMembers } from "./album-members.ts";

export function describeReplica(state: AlbumState): string {
  const lines: string[] = [`epoch ${state.epoch}`];

  const vector = [...state.causal.versionVector.entries()].sort((a, b) => a[0] - b[0]);
  const cloud = [...state.causal.cloud].sort(ascending).map(formatDot);
  lines.push(
    `causal context: version vector {${vector.map(([slot, counter]) => `${slot}:${counter}`).join(", ")}}` +
      `, cloud {${cloud.join(", ")}}`,
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
  );
  for (const name of members) lines.push(`  ${name}  dots ${dotsOf(name) || "-"}`);

  const files = listFiles(state);
  lines.push(`files (${files.length}):`);
  for (const file of files) {
    const average =
      file.average === null
        ? "no ratings"
        : `average ${file.average.toFixed(2)} of ${file.ratingCount}`;
    lines.push(
      `  ${file.displayName}  id ${file.fileId}  ${file.size} bytes  added by ${file.addedBy}` +
        `  ${average}  dots ${file.dots.map(formatDot).join(" ")}`,
    );
  }

  const ratings = [...state.ratings.values()].sort((a, b) =>
    a.fileId < b.fileId ? -1 : a.fileId > b.fileId ? 1 : a.slot - b.slot,
  );
  lines.push(`rating aggregates of this session (${ratings.length}):`);
  for (const rating of ratings) {
    lines.push(
      `  file ${rating.fileId} slot ${rating.slot}: ${rating.sum}/${rating.count} at ${formatDot(dotKey(rating.slot, rating.counter))}`,
    );
  }

  const removals = [...state.removals.entries()].sort((a, b) => a[0] - b[0]);
  lines.push(`removals of this session (${removals.length}):`);
  for (const [key, removal] of removals) {
    const witness = removal.witness === undefined ? "" : `  (expects ${removal.witness} to stay)`;
    lines.push(`  ${formatDot(key)} removed ${removal.removed.map(formatDot).join(" ")}${witness}`);
  }
  return lines.join("\n");
}
