// The causal context against a plain set of dots: same membership, always in
// normal form (no cloud dot that belongs in the version vector), whatever the
// order of insertions and joins.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  contextAdd,
  contextHas,
  contextJoinInto,
  emptyContext,
  highestInContext,
  isContiguous,
  type CausalContext,
} from "../../src/crdt/causal-context.ts";
import { counterOf, dotKey, slotOf } from "../../src/crdt/dot.ts";

const dots = fc.array(fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 12 })), {
  maxLength: 40,
});

function build(list: [number, number][]): CausalContext {
  const context = emptyContext();
  for (const [slot, counter] of list) contextAdd(context, dotKey(slot, counter));
  return context;
}

function assertNormal(context: CausalContext): void {
  for (const key of context.cloud) {
    assert.ok(counterOf(key) > (context.versionVector.get(slotOf(key)) ?? 0) + 1);
  }
}

describe("causal context", () => {
  test("membership equals the set of added dots, in normal form", () => {
    fc.assert(
      fc.property(dots, (list) => {
        const context = build(list);
        const set = new Set(list.map(([s, c]) => dotKey(s, c)));
        for (let slot = 1; slot <= 4; slot++) {
          for (let counter = 1; counter <= 13; counter++) {
            assert.equal(
              contextHas(context, dotKey(slot, counter)),
              set.has(dotKey(slot, counter)),
            );
          }
          const counters = list.filter(([s]) => s === slot).map(([, c]) => c);
          assert.equal(highestInContext(context, slot), Math.max(0, ...counters));
          // No gap: the distinct counters are exactly 1..max.
          assert.equal(
            isContiguous(context, slot),
            new Set(counters).size === Math.max(0, ...counters),
          );
        }
        assertNormal(context);
      }),
      { seed: 3, numRuns: 1000 },
    );
  });

  test("join is the union, in normal form", () => {
    fc.assert(
      fc.property(dots, dots, (a, b) => {
        const joined = build(a);
        contextJoinInto(joined, build(b));
        const union = build([...b, ...a]);
        assert.deepEqual([...joined.versionVector].sort(), [...union.versionVector].sort());
        assert.deepEqual([...joined.cloud].sort(), [...union.cloud].sort());
        assertNormal(joined);
      }),
      { seed: 5, numRuns: 1000 },
    );
  });
});
