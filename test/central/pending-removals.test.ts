// PendingRemovals (the central server's bookkeeping of removals that are
// settling) against an independent model, on random schedules (fast-check):
// what the merged album lists changes, holders leave and slots are taken
// again, the clock moves; after each step, exactly the holders that have been
// out of the album for the whole settle time (since the first time the server
// saw them out, in every member list since) are reported (and then ended by
// the caller), and never one the album lists.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { PendingRemovals, type HolderRef } from "../../src/central/sessions/pending-removals.ts";

const SETTLE_MS = 2000;
const SLOTS = [1, 2, 3, 4];
const USERS = ["ann", "bob", "cy", "dee", "eve"];

type Step =
  | { kind: "members"; listed: boolean[] }
  | { kind: "tick"; ms: number }
  | { kind: "leave"; slot: number }
  | { kind: "take"; slot: number; user: number }
  | { kind: "settle" };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("members" as const),
      listed: fc.array(fc.boolean(), { minLength: USERS.length, maxLength: USERS.length }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("tick" as const), ms: fc.nat(1500) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("leave" as const), slot: fc.constantFrom(...SLOTS) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("take" as const),
      slot: fc.constantFrom(...SLOTS),
      user: fc.nat(USERS.length - 1),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("settle" as const) }) },
);

/** The model: per slot, its holder and every member list noted since it took the slot. */
interface ModelSlot {
  holder: HolderRef;
  /** (time, listed?) of every note since the holder took the slot. */
  notes: { at: number; listed: boolean }[];
  /** The start of the time out already reported (once per time out). */
  reportedFrom: number | undefined;
}

/** When the holder's current time out began (its first note out after its last note in). */
function outSince(slot: ModelSlot): number | undefined {
  let since: number | undefined;
  for (const note of slot.notes) since = note.listed ? undefined : (since ?? note.at);
  return since;
}

describe("pending removals", () => {
  test("exactly the holders out for the whole settle time are reported, never one the album lists", () => {
    let reported = 0;
    fc.assert(
      fc.property(
        fc.array(stepArbitrary, { minLength: 20, maxLength: 80, size: "max" }),
        (steps) => {
          const pending = new PendingRemovals();
          const model = new Map<number, ModelSlot>();
          let now = 0;
          let members = new Set(USERS);
          const holders = (): HolderRef[] => [...model.values()].map((s) => s.holder);
          for (const step of steps) {
            switch (step.kind) {
              case "members":
                members = new Set(USERS.filter((_, i) => step.listed[i]));
                pending.note(members, holders(), now);
                for (const slot of model.values()) {
                  slot.notes.push({ at: now, listed: members.has(slot.holder.user) });
                }
                break;
              case "tick":
                now += step.ms;
                break;
              case "leave":
                model.delete(step.slot);
                pending.forget(step.slot);
                break;
              case "take":
                // A slot is taken only while free, and only by a member.
                if (model.has(step.slot) || !members.has(USERS[step.user]!)) break;
                model.set(step.slot, {
                  holder: { slot: step.slot, user: USERS[step.user]! },
                  notes: [],
                  reportedFrom: undefined,
                });
                break;
              case "settle": {
                const expected: number[] = [];
                for (const [slotNumber, slot] of model) {
                  const since = outSince(slot);
                  if (since === undefined || members.has(slot.holder.user)) continue;
                  if (since + SETTLE_MS > now || slot.reportedFrom === since) continue;
                  expected.push(slotNumber);
                  slot.reportedFrom = since;
                }
                const due = pending.settled(members, (n) => model.get(n)?.holder, now, SETTLE_MS);
                assert.deepEqual([...due].sort(), expected.sort());
                for (const slot of due) {
                  assert.ok(!members.has(model.get(slot)!.holder.user));
                  // The caller ends the holder: its slot is given up.
                  model.delete(slot);
                  pending.forget(slot);
                }
                reported += due.length;
                break;
              }
            }
          }
        },
      ),
      { numRuns: 300 },
    );
    // The schedules reach the interesting case: holders reported as settled.
    assert.ok(reported > 0);
  });
});
