// The shell's pure parts for editing sessions: which lines are commands and
// which are chat, and the exact event lines (plain and --json) that scripts
// and the integration tests read.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { classifyLine, mistypedMessage } from "../../src/cli/chat-or-command.ts";
import { commandNames, isCommandLine, sayText } from "../../src/cli/shell-commands.ts";
import { jsonEventLine, plainEventLine } from "../../src/cli/session-event-lines.ts";
import { redactContentKeys } from "../../src/client/session/redact-content-keys.ts";

describe("command, chat, or a mistyped command", () => {
  test("a leading '/' or a command's name makes a command", () => {
    for (const line of [
      "/help",
      "/anything at all",
      "listFiles",
      "rateFile a.jpg 4",
      "  putAlbum",
    ]) {
      assert.equal(isCommandLine(line), true, line);
      assert.deepEqual(classifyLine(line, commandNames()), { kind: "command" }, line);
    }
  });

  test("ordinary sentences are chat", () => {
    for (const line of [
      "hello there",
      "it's fine",
      "5 stars!",
      "nice photo",
      "rate it 5 please",
      "quitting time",
      "downloaded it, thanks",
    ]) {
      assert.deepEqual(classifyLine(line, commandNames()), { kind: "chat", text: line }, line);
    }
  });

  test("another case, the start of a name, or a typo is a mistyped command, not chat", () => {
    const cases: [string, string][] = [
      ["listAlbms", "listAlbums"],
      ["listfiles please", "listFiles"],
      ["download beach.jpg", "downloadFile"],
      ["Help", "help"],
      ["ratefile a.jpg 3", "rateFile"],
      ["putalbum", "putAlbum"],
      ["getAlbun trip", "getAlbum"],
    ];
    for (const [line, guess] of cases) {
      const kind = classifyLine(line, commandNames());
      assert.equal(kind.kind, "mistyped", line);
      assert.equal(kind.kind === "mistyped" && kind.guess, guess, line);
    }
    assert.match(mistypedMessage("listAlbms", "listAlbums"), /start the line with 'say '/);
  });

  test("say sends the rest of the line as typed", () => {
    assert.equal(sayText('say listFiles "quoted"  twice'), 'listFiles "quoted"  twice');
    assert.equal(sayText("/say hi"), "hi");
    assert.equal(sayText("saying hi"), undefined);
    assert.equal(sayText("say"), "");
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
