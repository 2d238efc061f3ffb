// The slot rules of an editing session (src/central/sessions/session-slots.ts)
// under random schedules of joins, clean leaves and losses: held slots are
// unique, a slot whose holder vanished is never handed out again, and a slot
// given back cleanly is reused before a fresh one.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SessionSlots } from "../../src/central/sessions/session-slots.ts";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";

type Step =
  | { kind: "join"; user: number }
  | { kind: "leave"; pick: number; how: "left" | "lost" | "removed" };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("join" as const), user: fc.nat(7) }),
  fc.record({
    kind: fc.constant("leave" as const),
    pick: fc.nat(20),
    how: fc.constantFrom("left" as const, "lost" as const, "removed" as const),
  }),
);

describe("session slots", () => {
  test("unique holders, retired slots never reused, clean slots reused first", () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { maxLength: 80 }), (steps) => {
        const slots = new SessionSlots<string>();
        const retired = new Set<number>();
        const reusable = new Set<number>();
        let highest = 0;
        for (const step of steps) {
          if (step.kind === "join") {
            const user = `user${step.user}`;
            const heldBefore = slots.holderOf(user);
            if (heldBefore) {
              assert.throws(
                () => slots.take(user, "conn"),
                (e: unknown) => e instanceof AlbumError && e.code === ErrorCode.FailedPrecondition,
              );
              continue;
            }
            const { slot } = slots.take(user, "conn");
            assert.ok(!retired.has(slot), `retired slot ${slot} handed out again`);
            if (reusable.size > 0) {
              assert.equal(slot, Math.min(...reusable), "the lowest clean slot comes first");
              reusable.delete(slot);
            } else {
              assert.equal(slot, highest + 1, "otherwise a fresh slot");
              highest = slot;
            }
          } else {
            const holders = slots.holders();
            if (holders.length === 0) continue;
            const holder = holders[step.pick % holders.length]!;
            slots.release(holder.slot, step.how);
            (step.how === "left" ? reusable : retired).add(holder.slot);
          }
          const held = slots.holders().map((h) => h.slot);
          assert.equal(new Set(held).size, held.length, "no slot held twice");
          assert.equal(
            new Set(slots.holders().map((h) => h.user)).size,
            held.length,
            "one slot per user",
          );
        }
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  test("a session that used up its slots says so", () => {
    const slots = new SessionSlots<string>();
    for (let i = 1; i <= 0xffff; i++) {
      slots.release(slots.take("u", "c").slot, "lost");
    }
    assert.throws(
      () => slots.take("u", "c"),
      (e: unknown) => e instanceof AlbumError && e.code === ErrorCode.ResourceExhausted,
    );
  });
});
