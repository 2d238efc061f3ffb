// The shell's pure parts for editing sessions: which lines are commands and
// which are chat, and the exact event lines (plain and --json) that scripts
// and the integration tests read.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isCommandLine } from "../../src/cli/shell-commands.ts";
import { jsonEventLine, plainEventLine } from "../../src/cli/session-event-lines.ts";
import { redactContentKeys } from "../../src/client/session/redact-content-keys.ts";

describe("command or chat", () => {
  test("a leading '/' or a command's name makes a command; anything else is chat", () => {
    for (const line of [
      "/help",
      "/anything at all",
      "listFiles",
      "rateFile a.jpg 4",
      "  putAlbum",
    ]) {
      assert.equal(isCommandLine(line), true, line);
    }
    for (const line of ["hello there", "listfiles please", "it's fine", "Help", "5 stars!"]) {
      assert.equal(isCommandLine(line), false, line);
    }
  });
});

describe("session event lines", () => {
  const chat = { kind: "chat" as const, message: { from: "alice", slot: 1, text: "hi", time: 5 } };
  test("plain", () => {
    assert.equal(plainEventLine(chat), "[alice] hi");
    assert.equal(
      plainEventLine({ kind: "joined", editor: { user: "bob", slot: 2 } }),
      "* bob joined (slot 2)",
    );
    assert.equal(
      plainEventLine({ kind: "left", editor: { user: "bob", slot: 2, reason: "left" } }),
      "* bob left",
    );
    assert.equal(
      plainEventLine({ kind: "left", editor: { user: "bob", slot: 2, reason: "lost" } }),
      "* bob left (connection lost)",
    );
    assert.equal(
      plainEventLine({ kind: "sessionEnded", end: { reason: "removed" } }),
      "* session ended: removed",
    );
  });

  test("plain lines carry no control characters from peers", () => {
    const line = plainEventLine({
      kind: "chat",
      message: { from: "eve", slot: 3, text: "\u001b[2Jgotcha\nfake line", time: 1 },
    });
    assert.equal(line, "[eve] ?[2Jgotcha?fake line");
  });

  test("--json", () => {
    assert.deepEqual(JSON.parse(jsonEventLine(chat)), {
      event: "chat",
      from: "alice",
      text: "hi",
      time: 5,
    });
    assert.deepEqual(
      JSON.parse(jsonEventLine({ kind: "joined", editor: { user: "bob", slot: 2 } })),
      { event: "joined", user: "bob", slot: 2 },
    );
    assert.deepEqual(
      JSON.parse(
        jsonEventLine({ kind: "left", editor: { user: "bob", slot: 2, reason: "removed" } }),
      ),
      { event: "left", user: "bob", slot: 2, reason: "removed" },
    );
    assert.deepEqual(JSON.parse(jsonEventLine({ kind: "sessionEnded", end: { reason: "x" } })), {
      event: "sessionEnded",
      reason: "x",
    });
  });
});

describe("content keys never printed", () => {
  test("whole keys and quoted prefixes are redacted; file ids and other numbers are not", () => {
    const key = "0123456789abcdef".repeat(4);
    assert.equal(redactContentKeys(`key ${key} lost`), "key <content key> lost");
    assert.equal(
      redactContentKeys(`no content with key ${key.slice(0, 12)}…`),
      "no content with key <content key>",
    );
    assert.equal(redactContentKeys("file 835126ed4da13f76 slot 1"), "file 835126ed4da13f76 slot 1");
  });
});
