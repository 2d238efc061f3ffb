// The listFiles table for people: aligned columns fitted to the terminal's
// width (a long name is shortened in the middle, so its start and its
// extension stay), human sizes, who added each file and when (local time),
// its average and number of ratings. On a narrow terminal the date shortens,
// then goes, then a long adder's name is shortened, so no line ever passes
// the width. Pure formatting; --json gets the data, not this table. Names are
// printed through printable(): they come from other editors.
import type { ListedFile } from "../client/session/album-session.ts";
import { printable } from "./session-event-lines.ts";
import { formatBytes } from "./transfer-progress-bar.ts";

/** Width used when output is not a terminal (scripts read whole names there). */
export const UNLIMITED_WIDTH = Number.POSITIVE_INFINITY;

const MIN_NAME_WIDTH = 12;
/** The date keeps its place while the names get at least this much room. */
const PREFERRED_NAME_WIDTH = 20;
const MIN_ADDER_WIDTH = "added by".length;
const GAP = "  ";

type AddedForm = "minute" | "day" | "none";

export function formatFilesTable(files: readonly ListedFile[], width: number): string {
  const names = files.map((file) => printable(file.name));
  const sizes = files.map((file) => formatBytes(file.size));
  const adders = files.map((file) => printable(file.addedBy));
  const ratings = files.map(describeRating);
  const widest = (header: string, cells: readonly string[]): number =>
    Math.max(header.length, ...cells.map((cell) => [...cell].length));
  const longestName = widest("name", names);
  const sizeWidth = widest("size", sizes);
  const ratingWidth = widest("rating", ratings);
  let adderWidth = widest("added by", adders);

  const addedCells = (form: AddedForm): string[] =>
    files.map((file) => (form === "none" ? "" : formatAddedAt(file.addedAt, form)));
  const roomForName = (form: AddedForm, adder: number): number => {
    const added = form === "none" ? 0 : widest("added", addedCells(form)) + GAP.length;
    return width - sizeWidth - adder - ratingWidth - added - 3 * GAP.length;
  };
  const wanted = Math.min(longestName, PREFERRED_NAME_WIDTH);
  const form: AddedForm =
    (["minute", "day"] as const).find(
      (candidate) => roomForName(candidate, adderWidth) >= wanted,
    ) ?? "none";
  if (form === "none" && roomForName("none", adderWidth) < MIN_NAME_WIDTH) {
    adderWidth = Math.max(
      MIN_ADDER_WIDTH,
      adderWidth - (MIN_NAME_WIDTH - roomForName("none", adderWidth)),
    );
  }
  const nameWidth = Math.min(longestName, Math.max(MIN_NAME_WIDTH, roomForName(form, adderWidth)));
  const added = addedCells(form);
  const addedWidth = widest("added", added);

  const line = (cells: {
    name: string;
    size: string;
    adder: string;
    added: string;
    rating: string;
  }): string =>
    [
      padEnd(elideMiddle(cells.name, nameWidth), nameWidth),
      padStart(cells.size, sizeWidth),
      padEnd(elideMiddle(cells.adder, adderWidth), adderWidth),
      ...(form === "none" ? [] : [padEnd(cells.added, addedWidth)]),
      cells.rating,
    ]
      .join(GAP)
      .trimEnd();
  const header = line({
    name: "name",
    size: "size",
    adder: "added by",
    added: "added",
    rating: "rating",
  });
  const rows = files.map((_, i) =>
    line({
      name: names[i]!,
      size: sizes[i]!,
      adder: adders[i]!,
      added: added[i]!,
      rating: ratings[i]!,
    }),
  );
  return [header, ...rows].join("\n");
}

/**
 * When a file was added, in local time: "2026-12-01 09:05" ("minute") or
 * "2026-12-01" ("day"); blank when unknown (files added before dates were
 * recorded, or by a client that records none).
 */
export function formatAddedAt(unixMs: number | null, form: "minute" | "day" = "minute"): string {
  if (unixMs === null) return "";
  const at = new Date(unixMs);
  if (Number.isNaN(at.getTime())) return "";
  const two = (n: number): string => String(n).padStart(2, "0");
  const day = `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}`;
  return form === "day" ? day : `${day} ${two(at.getHours())}:${two(at.getMinutes())}`;
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
