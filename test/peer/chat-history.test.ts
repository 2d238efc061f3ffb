// The bounded chat history: keeps the last N in delivery order and tells a
// peer what it lacks.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ChatHistory, type ChatEntry } from "../../src/peer/chat-history.ts";

const entry = (slot: number, seq: number): ChatEntry => ({
  slot,
  seq,
  clock: new Map([[slot, seq]]),
  senderName: `user${slot}`,
  text: `${slot}:${seq}`,
  sentAtUnixMs: 0,
});

describe("ChatHistory", () => {
  test("keeps the last N messages, oldest first", () => {
    const history = new ChatHistory(3);
    for (let seq = 1; seq <= 5; seq++) history.record(entry(1, seq));
    assert.deepEqual(
      history.recent().map((e) => e.text),
      ["1:3", "1:4", "1:5"],
    );
    assert.equal(history.size, 3);
  });

  test("defaults to 200 messages", () => {
    const history = new ChatHistory();
    for (let seq = 1; seq <= 250; seq++) history.record(entry(2, seq));
    assert.equal(history.size, 200);
    assert.equal(history.recent()[0]!.seq, 51);
  });

  test("missingFor returns what a peer has not delivered, in delivery order", () => {
    const history = new ChatHistory(10);
    history.record(entry(1, 1));
    history.record(entry(2, 1));
    history.record(entry(1, 2));
    history.record(entry(2, 2));
    const missing = history.missingFor(new Map([[1, 1]]));
    assert.deepEqual(
      missing.map((e) => e.text),
      ["2:1", "1:2", "2:2"],
    );
  });

  test("refuses a capacity that is not a positive integer", () => {
    assert.throws(() => new ChatHistory(0), RangeError);
  });
});
