// The shell's pure formatting and parsing for people: the listFiles table
// fitted to the terminal, the progress bar's layout on a narrow terminal,
// `~` expansion, history lines without passwords, and the lines that
// announce other editors' changes.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { albumChangeLines } from "../../src/cli/album-change-lines.ts";
import { elideMiddle, formatAddedAt, formatFilesTable } from "../../src/cli/files-table.ts";
import { fileChanges, snapshotFiles } from "../../src/client/session/file-changes.ts";
import type { AlbumFile } from "../../src/crdt/index.ts";
import { expandHome } from "../../src/cli/local-path.ts";
import { withoutPassword } from "../../src/cli/shell-history.ts";
import { progressLayout } from "../../src/cli/transfer-progress-bar.ts";

const file = (
  name: string,
  size: number,
  addedBy: string,
  ratings: number[] = [],
  addedAt: number | null = null,
) => ({
  name,
  size,
  addedBy,
  addedAt,
  ratings: ratings.length,
  average: ratings.length ? ratings.reduce((a, b) => a + b, 0) / ratings.length : null,
});
// Local time, so the expected text holds in any time zone.
const dec1at0905 = new Date(2026, 11, 1, 9, 5).getTime();

describe("listFiles table", () => {
  test("aligned columns, human sizes, who added it and when, average and count", () => {
    const table = formatFilesTable(
      [
        file("beach.jpg", 2_400_000, "alice", [4, 2], dec1at0905),
        file("dunes.png", 812, "bob"), // added before dates were recorded: blank
      ],
      100,
    );
    assert.equal(
      table,
      [
        "name          size  added by  added             rating",
        "beach.jpg  2.3 MiB  alice     2026-12-01 09:05  3.0 of 2",
        "dunes.png    812 B  bob                         not rated",
      ].join("\n"),
    );
    assert.equal(formatAddedAt(dec1at0905, "day"), "2026-12-01");
    assert.equal(formatAddedAt(null), "");
  });

  test("a narrow terminal shortens the date, then drops it, before names get too short", () => {
    const files = [file("a-rather-long-holiday-name.jpg", 5_000_000, "alice", [5], dec1at0905)];
    assert.match(formatFilesTable(files, 90), /2026-12-01 09:05/);
    assert.match(formatFilesTable(files, 66).split("\n")[1]!, /alice {5}2026-12-01 {2}5\.0/);
    const narrow = formatFilesTable(files, 50);
    assert.doesNotMatch(narrow, /2026|added {2}/);
    assert.match(narrow, /^name +size +added by +rating$/m);
  });

  test("every line fits the width: long names, long adders, dates known or not", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            name: fc.string({ minLength: 1, maxLength: 200 }),
            addedBy: fc.string({ minLength: 1, maxLength: 32 }),
            addedAt: fc.option(fc.integer({ min: 1, max: 4_102_444_800_000 }), { nil: null }),
            size: fc.integer({ min: 0, max: 2 ** 40 }),
            ratings: fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 3 }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        fc.integer({ min: 50, max: 200 }),
        (rows, width) => {
          const table = formatFilesTable(
            rows.map((row) => file(row.name, row.size, row.addedBy, row.ratings, row.addedAt)),
            width,
          );
          const lines = table.split("\n");
          for (const line of lines) assert.ok([...line].length <= width, line);
          assert.equal(lines.length, rows.length + 1);
        },
      ),
    );
    assert.equal(elideMiddle("a-very-long-holiday-photo-name.jpg", 15), "a-very-…ame.jpg");
  });
});

describe("progress bar layout", () => {
  test("at 50 columns the decorations go first and the percentage stays", () => {
    const { format, barsize } = progressLayout("downloadFile", 50);
    assert.match(format, /^\{percentage\}%/);
    assert.doesNotMatch(format, /downloadFile|\{phase\}/);
    // percentage (4) + "% [" + bar + "] " + done (up to 9) + spare column
    assert.ok(4 + 3 + barsize + 2 + 9 < 50);
    assert.match(progressLayout("downloadFile", 120).format, /^downloadFile \{phase\}/);
  });
});

describe("local paths and history", () => {
  test("~ and ~/ expand to the home folder; ~user and other paths stay", () => {
    assert.equal(expandHome("~", "/home/a"), "/home/a");
    assert.equal(expandHome("~/Pictures/beach.jpg", "/home/a"), "/home/a/Pictures/beach.jpg");
    assert.equal(expandHome("~bob/x", "/home/a"), "~bob/x");
    assert.equal(expandHome("a/~/b", "/home/a"), "a/~/b");
  });

  test("a password never reaches the history", () => {
    assert.equal(withoutPassword("login alice s3cret-pass"), "login alice");
    assert.equal(withoutPassword("/register bob 'pass word'"), "/register bob");
    assert.equal(withoutPassword("login alice"), "login alice");
    assert.equal(withoutPassword("listFiles"), "listFiles");
    assert.equal(withoutPassword("loginx a b"), "loginx a b");
  });
});

describe("other editors' changes", () => {
  const added = (name: string, by = "bob") =>
    ({ kind: "added", name, size: 1, addedBy: by }) as const;

  test("one line per change, naming the editor, the stars and the new average", () => {
    assert.deepEqual(
      albumChangeLines([
        {
          by: "bob",
          changes: [
            added("beach.jpg"),
            { kind: "rated", name: "dunes.png", stars: 4, average: 3, ratings: 2 },
            { kind: "removed", name: "old.jpg" },
          ],
        },
      ]),
      ["* bob added beach.jpg", "* bob rated dunes.png 4 (avg 3.0 of 2)", "* bob removed old.jpg"],
    );
  });

  test("many at once are grouped per editor and kind", () => {
    const batches = Array.from({ length: 12 }, (_, i) => ({
      by: "bob",
      changes: [added(`photo-${i}.jpg`)],
    }));
    batches.push({ by: "carol", changes: [added("x\u001b[2J.jpg", "carol")] });
    assert.deepEqual(albumChangeLines(batches), [
      "* bob added 12 files",
      "* carol added x?[2J.jpg",
    ]);
  });

  test("the diff of two listings: added, removed, and one new rating with its stars", () => {
    const file = (fileId: string, displayName: string, ratingCount = 0, ratingSum = 0) =>
      ({
        fileId,
        displayName,
        name: displayName,
        contentKey: "",
        size: 10,
        addedBy: "alice",
        ratingCount,
        ratingSum,
        average: ratingCount ? ratingSum / ratingCount : null,
        dots: [],
      }) as unknown as AlbumFile;
    const before = snapshotFiles([file("1", "a.jpg"), file("2", "b.jpg", 1, 3)]);
    assert.deepEqual(fileChanges(before, [file("2", "b.jpg", 2, 8), file("3", "c.jpg")]), [
      { kind: "rated", name: "b.jpg", stars: 5, average: 4, ratings: 2 },
      { kind: "added", name: "c.jpg", size: 10, addedBy: "alice" },
      { kind: "removed", name: "a.jpg" },
    ]);
  });
});
