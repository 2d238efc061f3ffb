// The slot rules of an editing session (src/central/sessions/session-slots.ts)
// under random schedules of joins, clean leaves and losses: held slots are
// unique, a slot whose holder vanished is never handed out again, and a slot
// given back cleanly is reused before a fresh one; a slot table restored after
// a restart keeps its holders' slots for them and never reissues a used slot.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SessionSlots } from "../../src/central/sessions/session-slots.ts";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";

type Step =
  | { kind: "join"; user: number }
  /** `sent`: how many chat lines the holder sent before it went. */
  | { kind: "leave"; pick: number; how: "left" | "lost" | "removed"; sent: number };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("join" as const), user: fc.nat(7) }),
  fc.record({
    kind: fc.constant("leave" as const),
    pick: fc.nat(20),
    how: fc.constantFrom("left" as const, "lost" as const, "removed" as const),
    sent: fc.nat(5),
  }),
);

describe("session slots", () => {
  test("unique holders, retired slots never reused, clean slots reused first", () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { maxLength: 80 }), (steps) => {
        const slots = new SessionSlots<string>();
        const retired = new Set<number>();
        const reusable = new Set<number>();
        /** The highest chat number each slot's holders reached (a model). */
        const chatSeqOf = new Map<number, number>();
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
            const { slot, chatSeq } = slots.take(user, "conn");
            assert.ok(!retired.has(slot), `retired slot ${slot} handed out again`);
            assert.equal(
              chatSeq,
              chatSeqOf.get(slot) ?? 0,
              "chat continues above the predecessors'",
            );
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
            // As putAlbum does: the leaver's last chat number, above its predecessors'.
            holder.chatSeq += step.sent;
            chatSeqOf.set(holder.slot, holder.chatSeq);
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

  test("a restored slot table: holders away (their slots kept for them), used slots never handed out again", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            state: fc.constantFrom("held" as const, "reusable" as const, "retired" as const),
            user: fc.nat(5),
            chatSeq: fc.nat(1000),
          }),
          { maxLength: 12 },
        ),
        fc.array(fc.nat(9), { maxLength: 12 }),
        (table, newcomers) => {
          const records = table.map((row, index) => ({
            slot: index + 1,
            user: `user${row.user}`,
            state: row.state,
            resumeKeyHash: "ab".repeat(32),
            address: undefined,
            chatSeq: row.chatSeq,
          }));
          const slots = SessionSlots.restore<string>(records, 1000);
          const held = records.filter((r) => r.state === "held");
          assert.deepEqual(
            slots.holders().map((h) => [h.slot, h.connection, h.awaySince]),
            held.map((r) => [r.slot, undefined, 1000]),
          );
          const reusable = records.filter((r) => r.state === "reusable").map((r) => r.slot);
          for (const n of newcomers) {
            const user = `newcomer${n}`;
            if (slots.holderOf(user)) continue;
            const { slot, chatSeq } = slots.take(user, "conn");
            const before = records.find((r) => r.slot === slot);
            assert.ok(
              before === undefined || (before.state === "reusable" && reusable.includes(slot)),
              `slot ${slot} (${before?.state}) handed to a newcomer`,
            );
            // A reused slot's chat continues above its earlier holders'.
            assert.equal(chatSeq, before?.chatSeq ?? 0);
            reusable.splice(reusable.indexOf(slot), before ? 1 : 0);
          }
          // An away holder reclaims its own slot; expiry retires only the away.
          for (const holder of held) slots.reclaim(holder.slot, "back");
          assert.deepEqual(slots.expired(1000 + 60_000, 60_000), []);
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });
});
