// Tab completion of the interactive shell (pure): commands, then file and
// member names of the open album, quoted when they contain spaces.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { completeLine, quoteIfNeeded } from "../../src/cli/line-completion.ts";
import { splitCommandLine } from "../../src/cli/command-line.ts";

const commands = ["getAlbum", "listFiles", "rateFile", "removeFile", "removeUser", "downloadFile"];
const album = {
  fileNames: () => ["beach.jpg", "beach party.mov", 'say "cheese".png', "dunes.png"],
  memberNames: () => ["alice", "bob"],
};

describe("line completion", () => {
  test("command names, with or without the leading slash", () => {
    assert.deepEqual(completeLine("rem", commands, album), [["removeFile ", "removeUser "], "rem"]);
    assert.deepEqual(completeLine("/get", commands, undefined), [["/getAlbum "], "/get"]);
  });

  test("file names for file commands, quoted when needed", () => {
    assert.deepEqual(completeLine("rateFile bea", commands, album), [
      ["beach.jpg", '"beach party.mov"'],
      "bea",
    ]);
    assert.deepEqual(completeLine('downloadFile "beach p', commands, album), [
      ['"beach party.mov"'],
      '"beach p',
    ]);
    assert.deepEqual(completeLine("removeUser b", commands, album), [["bob"], "b"]);
  });

  test("nothing outside a session, for other commands, or past the first argument", () => {
    assert.deepEqual(completeLine("rateFile bea", commands, undefined)[0], []);
    assert.deepEqual(completeLine("getAlbum t", commands, album)[0], []);
    assert.deepEqual(completeLine("rateFile beach.jpg 4", commands, album)[0], []);
  });

  test("a quoted name splits back into the very name", () => {
    for (const name of album.fileNames()) {
      assert.deepEqual(splitCommandLine(`rateFile ${quoteIfNeeded(name)} 4`), [
        "rateFile",
        name,
        "4",
      ]);
    }
  });
});
