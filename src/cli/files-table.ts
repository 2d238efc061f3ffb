// The listFiles table for people: aligned columns fitted to the terminal's
// width (a long name is shortened in the middle, so its start and its
// extension stay), human sizes, who added each file, its average and number
// of ratings. Pure formatting; --json gets the data, not this table. Names
// are printed through printable(): they come from other editors.
import type { ListedFile } from "../client/session/album-session.ts";
import { printable } from "./session-event-lines.ts";
import { formatBytes } from "./transfer-progress-bar.ts";

/** Width used when output is not a terminal (scripts read whole names there). */
export const UNLIMITED_WIDTH = Number.POSITIVE_INFINITY;

const HEADERS = ["name", "size", "added by", "rating"] as const;
const MIN_NAME_WIDTH = 12;

export function formatFilesTable(files: readonly ListedFile[], width: number): string {
  const rows = files.map((file) => [
    printable(file.name),
    formatBytes(file.size),
    printable(file.addedBy),
    describeRating(file),
  ]);
  const otherWidths = [1, 2, 3].map((column) =>
    Math.max(HEADERS[column]!.length, ...rows.map((row) => [...row[column]!].length)),
  );
  const gaps = 2 * 3;
  const longestName = Math.max(HEADERS[0].length, ...rows.map((row) => [...row[0]!].length));
  const room = width - gaps - otherWidths.reduce((sum, w) => sum + w, 0);
  const nameWidth = Math.min(longestName, Math.max(MIN_NAME_WIDTH, room));
  const line = (cells: readonly string[]): string =>
    [
      padEnd(elideMiddle(cells[0]!, nameWidth), nameWidth),
      padStart(cells[1]!, otherWidths[0]!),
      padEnd(cells[2]!, otherWidths[1]!),
      cells[3]!,
    ]
      .join("  ")
      .trimEnd();
  return [line(HEADERS), ...rows.map(line)].join("\n");
}

export function describeRating(file: Pick<ListedFile, "average" | "ratings">): string {
  if (file.average === null || file.ratings === 0) return "not rated";
  return `${file.average.toFixed(1)} of ${file.ratings}`;
}

/** "a-very-long-name.jpg" in 10 columns: "a-ve….jpg"-like, start and end kept. */
export function elideMiddle(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 1) return "…".slice(0, width);
  const keep = width - 1;
  const tail = Math.floor(keep / 2);
  const head = keep - tail;
  return `${chars.slice(0, head).join("")}…${chars.slice(chars.length - tail).join("")}`;
}

function padEnd(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - [...text].length));
}

function padStart(text: string, width: number): string {
  return " ".repeat(Math.max(0, width - [...text].length)) + text;
}
