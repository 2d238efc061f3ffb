// Gap detection on numbered CRDT deltas: a gap is reported only when it
// outlives one repair period (late deltas fill it in the meantime).
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DeltaGapTracker } from "../../src/peer/delta-gap-tracker.ts";

describe("DeltaGapTracker", () => {
  test("the first number seen is a baseline; contiguous numbers are no gap", () => {
    const tracker = new DeltaGapTracker();
    for (const seq of [41, 42, 43]) tracker.record(1, seq);
    assert.deepEqual(tracker.closePeriod(), []);
    assert.deepEqual(tracker.closePeriod(), []);
  });

  test("a gap filled before the period ends is not reported", () => {
    const tracker = new DeltaGapTracker();
    tracker.record(1, 1);
    tracker.record(1, 3);
    assert.deepEqual(tracker.closePeriod(), []);
    tracker.record(1, 2);
    assert.deepEqual(tracker.closePeriod(), []);
  });

  test("a lasting gap is reported once, then considered repaired", () => {
    const tracker = new DeltaGapTracker();
    tracker.record(1, 1);
    tracker.record(1, 3);
    tracker.record(2, 5);
    assert.deepEqual(tracker.closePeriod(), []);
    assert.deepEqual(tracker.closePeriod(), [1]);
    assert.deepEqual(tracker.closePeriod(), []);
    tracker.record(1, 4);
    tracker.record(1, 2); // late copy of a repaired delta: ignored
    assert.deepEqual(tracker.closePeriod(), []);
  });

  test("forget() drops a sender's numbering (slot reused by a newcomer)", () => {
    const tracker = new DeltaGapTracker();
    tracker.record(1, 10);
    tracker.forget(1);
    tracker.record(1, 1);
    tracker.record(1, 2);
    tracker.closePeriod();
    assert.deepEqual(tracker.closePeriod(), []);
  });

  test("a very wide gap is reported without tracking each number", () => {
    const tracker = new DeltaGapTracker();
    tracker.record(1, 1);
    for (let seq = 3; seq < 3000; seq++) tracker.record(1, seq);
    assert.deepEqual(tracker.closePeriod(), [1]);
  });
});
