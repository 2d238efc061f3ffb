// Vector clocks over session slots: order, merge, and validation of wire entries.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  clockEntries,
  clockFromEntries,
  compareClocks,
  dominates,
  formatClock,
  mergeClocks,
  withCounter,
  type VectorClock,
} from "../../src/peer/vector-clock.ts";

const clock = (entries: Record<number, number>): VectorClock =>
  new Map(Object.entries(entries).map(([slot, counter]) => [Number(slot), counter]));

describe("vector clocks", () => {
  test("compare", () => {
    assert.equal(compareClocks(clock({ 1: 1 }), clock({ 1: 1 })), "equal");
    assert.equal(compareClocks(clock({ 1: 1 }), clock({ 1: 2 })), "before");
    assert.equal(compareClocks(clock({ 1: 2, 2: 1 }), clock({ 1: 2 })), "after");
    assert.equal(compareClocks(clock({ 1: 1 }), clock({ 2: 1 })), "concurrent");
    assert.equal(compareClocks(clock({}), clock({})), "equal");
  });

  test("merge is the pointwise maximum and leaves its inputs alone", () => {
    const a = clock({ 1: 3, 2: 1 });
    const b = clock({ 2: 4, 7: 1 });
    assert.equal(formatClock(mergeClocks(a, b)), "{1:3, 2:4, 7:1}");
    assert.equal(formatClock(a), "{1:3, 2:1}");
    assert.ok(dominates(mergeClocks(a, b), a) && dominates(mergeClocks(a, b), b));
  });

  test("withCounter copies, and zero counters are not stored", () => {
    const a = clock({ 1: 3 });
    assert.equal(formatClock(withCounter(a, 2, 5)), "{1:3, 2:5}");
    assert.equal(withCounter(a, 1, 0).size, 0);
    assert.equal(a.get(1), 3);
  });

  test("wire entries round-trip, sorted, without zeros", () => {
    const entries = clockEntries(clock({ 9: 2, 0: 1, 4: 0 }));
    assert.deepEqual(entries, [
      { slot: 0, counter: 1 },
      { slot: 9, counter: 2 },
    ]);
    assert.equal(formatClock(clockFromEntries(entries) as VectorClock), "{0:1, 9:2}");
  });

  test("untrusted entries are validated", () => {
    assert.match(
      String(
        clockFromEntries([
          { slot: 1, counter: 1 },
          { slot: 1, counter: 2 },
        ]),
      ),
      /twice/,
    );
    assert.match(String(clockFromEntries([{ slot: 70_000, counter: 1 }])), /out of range/);
    assert.match(String(clockFromEntries([{ slot: 1, counter: -1 }])), /out of range/);
  });
});
