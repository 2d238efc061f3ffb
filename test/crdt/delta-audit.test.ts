// The audit of deltas from others (src/crdt/delta-audit.ts): every delta an
// honest editor makes passes it against any replica, across epochs and with
// the rate-once records of the central server; a rating aggregate that counts
// one rating or one star too many, an event of a slot nobody held, and an
// invented base event are refused.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AlbumError } from "../../src/common/album-error.ts";
import {
  addFile,
  addMember,
  compact,
  decodeDelta,
  encodeDelta,
  listFiles,
  mergeInto,
  rateFile,
  type AlbumDelta,
  type AlbumState,
} from "../../src/crdt/index.ts";
import { auditDelta, type AuditRules, type RatingTally } from "../../src/crdt/delta-audit.ts";
import { emptyState, putMember, ratingKey } from "../../src/crdt/album-state.ts";
import { contextAdd } from "../../src/crdt/causal-context.ts";
import { dotKey } from "../../src/crdt/dot.ts";
import { albumWithMembers, contentKey, USERS } from "./album-simulation.ts";

/** Rate-once records as the central server keeps them. */
class Records implements AuditRules {
  readonly tallies = new Map<string, RatingTally>();
  constructor(public highestSlot: number) {}
  ratingTally(fileId: string): RatingTally | undefined {
    return this.tallies.get(fileId);
  }
  record(fileId: string, stars: number): void {
    const tally = this.tallies.get(fileId) ?? { raters: 0, stars: 0 };
    this.tallies.set(fileId, { raters: tally.raters + 1, stars: tally.stars + stars });
  }
}

const copy = (delta: AlbumDelta): AlbumDelta => decodeDelta(encodeDelta(delta));

/** An operation the CRDT refuses (a name taken, a member already there) makes no delta. */
function attempt(operation: () => AlbumDelta): AlbumDelta | undefined {
  try {
    return operation();
  } catch (error) {
    if (error instanceof AlbumError) return undefined;
    throw error;
  }
}

describe("auditDelta", () => {
  test("honest deltas always pass; one rating or star too many never does", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }),
        fc.array(
          fc.record({
            editor: fc.nat(),
            kind: fc.constantFrom("add", "rate", "member"),
            pick: fc.nat(),
            stars: fc.integer({ min: 0, max: 5 }),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        fc.boolean(),
        (editors, steps, compactFirst) => {
          let start = albumWithMembers(editors);
          const records = new Records(editors);
          // Ratings of an earlier epoch, folded into base entries, count too.
          if (compactFirst) {
            const ctx = { slot: 1, user: USERS[0]! };
            addFile(start, ctx, { name: "old.jpg", contentKey: contentKey(9), size: 1 });
            const [old] = listFiles(start);
            rateFile(start, ctx, "old.jpg", 3);
            records.record(old!.fileId, 3);
            start = compact(start);
          }
          const server: AlbumState = copy(start);
          const replicas = Array.from({ length: editors }, () => copy(start));
          const rated = new Set<string>();
          for (const step of steps) {
            const slot = (step.editor % editors) + 1;
            const replica = replicas[slot - 1]!;
            const ctx = { slot, user: USERS[slot - 1]! };
            let delta: AlbumDelta | undefined;
            if (step.kind === "add") {
              delta = attempt(() =>
                addFile(replica, ctx, {
                  name: `f${step.pick % 5}.jpg`,
                  contentKey: contentKey(step.pick % 7),
                  size: 10,
                }),
              );
            } else if (step.kind === "member") {
              delta = attempt(() => addMember(replica, ctx, USERS[4 + (step.pick % 5)]!));
            } else {
              const files = listFiles(replica);
              const file = files[step.pick % Math.max(1, files.length)];
              if (!file || rated.has(`${ctx.user}:${file.fileId}`)) continue;
              rated.add(`${ctx.user}:${file.fileId}`);
              records.record(file.fileId, step.stars); // recorded before it is applied
              delta = rateFile(replica, ctx, file.displayName, step.stars);
            }
            if (!delta) continue;
            // The server and every other editor check it before merging.
            assert.equal(auditDelta(server, delta, records), undefined);
            mergeInto(server, delta);
            for (const other of replicas) {
              if (other === replica) continue;
              assert.equal(auditDelta(other, delta, records), undefined);
              mergeInto(other, delta);
            }
            if (step.kind === "rate") {
              for (const [key, rating] of delta.ratings) {
                for (const forged of [
                  { ...rating, count: rating.count + 1, counter: rating.counter + 1 },
                  { ...rating, sum: rating.sum + 1, counter: rating.counter + 1 },
                ]) {
                  const bad = emptyState(delta.epoch);
                  bad.ratings.set(key, forged);
                  contextAdd(bad.causal, dotKey(forged.slot, forged.counter));
                  assert.notEqual(auditDelta(server, bad, records), undefined, "forged rating");
                }
              }
            }
          }
        },
      ),
      { seed: 9, numRuns: 200 },
    );
  });

  test("events of a slot nobody held and invented base events are refused", () => {
    const state = albumWithMembers(2);
    const rules = new Records(2);
    const slot77 = emptyState(state.epoch);
    putMember(slot77, dotKey(77, 1), "mallory");
    contextAdd(slot77.causal, dotKey(77, 1));
    assert.match(auditDelta(state, slot77, rules)!, /slot 77/);

    const base = emptyState(state.epoch);
    putMember(base, dotKey(0, 99), "mallory");
    assert.match(auditDelta(state, base, rules)!, /never made/);

    const unusedSlot = emptyState(state.epoch);
    unusedSlot.ratings.set(ratingKey("0123456789abcdef", 3), {
      fileId: "0123456789abcdef",
      slot: 3,
      counter: 1,
      sum: 5,
      count: 1,
    });
    assert.match(auditDelta(state, unusedSlot, rules)!, /slot 3/);
    rules.highestSlot = 3;
    assert.match(auditDelta(state, unusedSlot, rules)!, /would count 1 ratings, but 0 users/);
  });
});
