// The shell's pure formatting and parsing for people: the listFiles table
// fitted to the terminal, the progress bar's layout on a narrow terminal,
// `~` expansion, history lines without passwords, and the lines that
// announce other editors' changes.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { albumChangeLines } from "../../src/cli/album-change-lines.ts";
import { elideMiddle, formatFilesTable } from "../../src/cli/files-table.ts";
import { fileChanges, snapshotFiles } from "../../src/client/session/file-changes.ts";
import type { AlbumFile } from "../../src/crdt/index.ts";
import { expandHome } from "../../src/cli/local-path.ts";
import { withoutPassword } from "../../src/cli/shell-history.ts";
import { progressLayout } from "../../src/cli/transfer-progress-bar.ts";

const file = (name: string, size: number, addedBy: string, ratings: number[] = []) => ({
  name,
  size,
  addedBy,
  ratings: ratings.length,
  average: ratings.length ? ratings.reduce((a, b) => a + b, 0) / ratings.length : null,
});

describe("listFiles table", () => {
  test("aligned columns, human sizes, who added it, average and count", () => {
    const table = formatFilesTable(
      [file("beach.jpg", 2_400_000, "alice", [4, 2]), file("dunes.png", 812, "bob")],
      100,
    );
    assert.equal(
      table,
      [
        "name          size  added by  rating",
        "beach.jpg  2.3 MiB  alice     3.0 of 2",
        "dunes.png    812 B  bob       not rated",
      ].join("\n"),
    );
  });

  test("long names are shortened in the middle so every line fits the width", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 200 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 50, max: 200 }),
        (names, width) => {
          const table = formatFilesTable(
            names.map((name) => file(name, 1234, "someone")),
            width,
          );
          for (const line of table.split("\n")) assert.ok([...line].length <= width, line);
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
