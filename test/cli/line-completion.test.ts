// Tab completion of the interactive shell: commands (also after `help `),
// file and member names of the open album (quoted when they contain spaces),
// local paths for addFile and downloadFile's destination; a single match
// ends with a space, several fill in their common prefix.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { completeLine, quoteIfNeeded } from "../../src/cli/line-completion.ts";
import { splitCommandLine } from "../../src/cli/command-line.ts";
import { makeTempDir } from "../central/helpers/central-process.ts";

const commands = [
  "addFile",
  "getAlbum",
  "help",
  "listFiles",
  "rateFile",
  "removeFile",
  "removeUser",
  "downloadFile",
];
const album = {
  fileNames: () => ["beach.jpg", "beach party.mov", 'say "cheese".png', "dunes.png", "dog.jpg"],
  memberNames: () => ["alice", "bob"],
};

describe("line completion", () => {
  const temp = makeTempDir("albumshare-completion-");
  mkdirSync(join(temp.dir, "pictures"));
  writeFileSync(join(temp.dir, "pictures", "sunset one.jpg"), "x");
  writeFileSync(join(temp.dir, "pictures", "sunset two.jpg"), "x");
  writeFileSync(join(temp.dir, "pictures", "tree.png"), "x");
  after(() => temp.remove());

  test("command names, with or without the leading slash; several fill their common prefix", async () => {
    assert.deepEqual(await completeLine("rem", commands, album), [["remove"], "rem"]);
    assert.deepEqual(await completeLine("remove", commands, album), [
      ["removeFile", "removeUser"],
      "remove",
    ]);
    assert.deepEqual(await completeLine("/get", commands, undefined), [["/getAlbum "], "/get"]);
  });

  test("after `help `, the command names", async () => {
    assert.deepEqual(await completeLine("help rate", commands, undefined), [["rateFile "], "rate"]);
  });

  test("one file name is completed with a space after it, so the next word is separate", async () => {
    assert.deepEqual(await completeLine("rateFile do", commands, album), [["dog.jpg "], "do"]);
    assert.deepEqual(await completeLine('downloadFile "beach p', commands, album), [
      ['"beach party.mov" '],
      '"beach p',
    ]);
    assert.deepEqual(await completeLine("removeUser b", commands, album), [["bob "], "b"]);
  });

  test("several file names fill in their common prefix, quoted when it holds a space", async () => {
    assert.deepEqual(await completeLine("rateFile bea", commands, album), [["beach"], "bea"]);
    assert.deepEqual(await completeLine("rateFile beach", commands, album), [
      ["beach.jpg", '"beach party.mov"'],
      "beach",
    ]);
  });

  test("local paths for addFile (every argument) and downloadFile's destination", async () => {
    const folder = join(temp.dir, "pictures");
    assert.deepEqual(await completeLine(`addFile ${temp.dir}/pi`, commands, album), [
      [`${folder}/`],
      `${temp.dir}/pi`,
    ]);
    assert.deepEqual(await completeLine(`addFile ${folder}/tr`, commands, album), [
      [`${folder}/tree.png `],
      `${folder}/tr`,
    ]);
    assert.deepEqual(
      await completeLine(`addFile ${folder}/tree.png ${folder}/su`, commands, album),
      [[`"${folder}/sunset `], `${folder}/su`],
    );
    assert.deepEqual(await completeLine(`downloadFile dog.jpg ${folder}/tr`, commands, album), [
      [`${folder}/tree.png `],
      `${folder}/tr`,
    ]);
  });

  test("nothing outside a session, for other commands, or for a rating", async () => {
    assert.deepEqual((await completeLine("rateFile bea", commands, undefined))[0], []);
    assert.deepEqual((await completeLine("getAlbum t", commands, album))[0], []);
    assert.deepEqual((await completeLine("rateFile beach.jpg 4", commands, album))[0], []);
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
