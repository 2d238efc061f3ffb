// The partial-frame budget against a model: whatever the sequence of
// declarations, the total never passes the cap, equals the sum of what the
// holders declared and was granted, and shrinking is never refused.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that test returns */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { BufferBudget } from "../../src/protocol/buffer-budget.ts";

test("the total stays under the cap and matches a model", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1000 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 600 })), {
        maxLength: 200,
      }),
      (cap, steps) => {
        const budget = new BufferBudget(cap);
        const holders = Array.from({ length: 5 }, () => ({}));
        const model = new Map<object, number>();
        let granted = 0;
        for (const [who, bytes] of steps) {
          const holder = holders[who]!;
          const before = model.get(holder) ?? 0;
          const total = [...model.values()].reduce((a, b) => a + b, 0);
          const shouldGrant = bytes <= before || total - before + bytes <= cap;
          const ok = budget.set(holder, bytes);
          assert.equal(ok, shouldGrant);
          if (ok) {
            model.set(holder, bytes);
            granted++;
          }
          assert.ok(budget.usedBytes <= cap);
          assert.equal(
            budget.usedBytes,
            [...model.values()].reduce((a, b) => a + b, 0),
          );
          assert.equal(budget.heldBy(holder), model.get(holder) ?? 0);
        }
        for (const holder of holders) budget.release(holder);
        assert.equal(budget.usedBytes, 0);
        return granted >= 0;
      },
    ),
  );
});
