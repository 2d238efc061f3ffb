// Random operations at 2-8 editors under random delivery (reordering,
// duplication, batching, anti-entropy) converge to byte-identical replicas
// that match the OR-set rule, the rating log and full-state merging.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  cloneState,
  describeReplica,
  encodeState,
  join,
  listFiles,
  mergeInto,
} from "../../src/crdt/index.ts";
import {
  CONTENT_KEYS,
  joinAll,
  listedFileIdentities,
  oracle,
  scenario,
  simulate,
  sortedMembers,
} from "./album-simulation.ts";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

describe("album CRDT convergence", () => {
  test("all replicas encode to the same bytes after every delta arrived", () => {
    let operations = 0;
    fc.assert(
      fc.property(scenario(), (plan) => {
        const run = simulate(plan);
        assert.deepEqual(run.foreignErrors, []);
        operations += run.deltas.length;
        const encodings = run.replicas.map((r) => hex(encodeState(r)));
        for (const encoding of encodings) assert.equal(encoding, encodings[0]);
      }),
      { seed: 42, numRuns: 1000 },
    );
    assert.ok(operations > 5000, `only ${operations} operations were exercised`);
  });

  test("applying the deltas equals merging the full states, in any order", () => {
    fc.assert(
      fc.property(scenario(), fc.integer(), (plan, shuffleSeed) => {
        const run = simulate(plan);
        const converged = hex(encodeState(run.replicas[0]!));
        assert.equal(hex(encodeState(joinAll(run.replicas))), converged);
        const shuffled = shuffle(run.deltas, shuffleSeed);
        const fromDeltas = cloneState(run.initial);
        for (const delta of shuffled) mergeInto(fromDeltas, delta);
        assert.equal(hex(encodeState(fromDeltas)), converged);
        // Batched: deltas joined into groups first.
        const batched = cloneState(run.initial);
        for (let i = 0; i < shuffled.length; i += 3) {
          mergeInto(
            batched,
            shuffled.slice(i, i + 3).reduce((a, b) => join(a, b)),
          );
        }
        assert.equal(hex(encodeState(batched)), converged);
      }),
      { seed: 7, numRuns: 250 },
    );
  });

  test("add wins and a remove only removes what it observed (OR-set rule)", () => {
    fc.assert(
      fc.property(scenario(), (plan) => {
        const run = simulate(plan);
        const expected = oracle(run.initial, run.deltas);
        assert.deepEqual(sortedMembers(run.replicas[0]!), expected.members);
        assert.deepEqual(listedFileIdentities(run.replicas[0]!), expected.files);
      }),
      { seed: 11, numRuns: 250 },
    );
  });

  test("nothing removed comes back by merging a stale replica", () => {
    fc.assert(
      fc.property(scenario(), (plan) => {
        const run = simulate(plan);
        const final = run.replicas[0]!;
        const encoded = hex(encodeState(final));
        for (const stale of run.snapshots)
          assert.equal(hex(encodeState(join(final, stale))), encoded);
      }),
      { seed: 13, numRuns: 200 },
    );
  });

  test("averages equal a recomputation from the accepted ratings", () => {
    fc.assert(
      fc.property(scenario(), (plan) => {
        const run = simulate(plan);
        for (const file of listFiles(run.replicas[0]!)) {
          const accepted = run.ratings.filter((r) => r.fileId === file.fileId);
          const sum = accepted.reduce((total, r) => total + r.stars, 0);
          assert.equal(file.ratingCount, accepted.length);
          assert.equal(file.ratingSum, sum);
          assert.equal(file.average, accepted.length === 0 ? null : sum / accepted.length);
        }
      }),
      { seed: 17, numRuns: 200 },
    );
  });

  test("display names are unique, identical everywhere, and never show a content key", () => {
    fc.assert(
      fc.property(scenario(), (plan) => {
        const run = simulate(plan);
        const names = listFiles(run.replicas[0]!).map((f) => f.displayName);
        assert.equal(new Set(names).size, names.length);
        for (const replica of run.replicas) {
          assert.deepEqual(
            listFiles(replica).map((f) => f.displayName),
            names,
          );
          const description = describeReplica(replica);
          for (const key of CONTENT_KEYS) {
            assert.ok(
              !description.includes(key.slice(0, 16)),
              "describeReplica shows a content key",
            );
          }
          for (const name of names)
            assert.ok(!CONTENT_KEYS.some((k) => name.includes(k.slice(0, 8))));
        }
      }),
      { seed: 19, numRuns: 150 },
    );
  });
});

function shuffle<T>(items: readonly T[], seed: number): T[] {
  const result = [...items];
  let state = seed >>> 0 || 1;
  for (let i = result.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) >>> 0;
    const j = state % (i + 1);
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
}
