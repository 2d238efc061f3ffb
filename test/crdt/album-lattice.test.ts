// The join laws on random reachable replicas, and anti-entropy: a replica that
// sends its causal context receives exactly what it lacks.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  causalContextOf,
  decodeState,
  encodeDelta,
  encodeState,
  join,
  missingFrom,
  type AlbumState,
} from "../../src/crdt/index.ts";
import { scenario, simulate } from "./album-simulation.ts";

const hex = (state: AlbumState): string => Buffer.from(encodeState(state)).toString("hex");

// Three replicas of one random history, taken at random moments.
const threeStates = fc
  .record({ plan: scenario(50), picks: fc.tuple(fc.nat(), fc.nat(), fc.nat()) })
  .map(({ plan, picks }) => {
    const run = simulate(plan);
    const pool = [...run.snapshots, ...run.replicas];
    return picks.map((p) => pool[p % pool.length]!) as [AlbumState, AlbumState, AlbumState];
  });

describe("album CRDT lattice", () => {
  test("join is commutative, associative and idempotent", () => {
    fc.assert(
      fc.property(threeStates, ([a, b, c]) => {
        assert.equal(hex(join(a, b)), hex(join(b, a)));
        assert.equal(hex(join(join(a, b), c)), hex(join(a, join(b, c))));
        assert.equal(hex(join(a, a)), hex(a));
        // The join is an upper bound: joining either input again changes nothing.
        const ab = join(a, b);
        assert.equal(hex(join(ab, a)), hex(ab));
      }),
      { seed: 23, numRuns: 500 },
    );
  });

  test("join leaves its inputs unchanged", () => {
    fc.assert(
      fc.property(threeStates, ([a, b]) => {
        const before = [hex(a), hex(b)];
        join(a, b);
        assert.deepEqual([hex(a), hex(b)], before);
      }),
      { seed: 29, numRuns: 100 },
    );
  });

  test("missingFrom gives the remote exactly what it lacks", () => {
    fc.assert(
      fc.property(threeStates, ([a, b]) => {
        const delta = missingFrom(a, causalContextOf(b));
        assert.equal(hex(join(b, delta)), hex(join(a, b)));
        // Nothing the remote has already is sent (only the context).
        const self = missingFrom(a, causalContextOf(a));
        assert.equal(
          self.files.size + self.members.size + self.removals.size + self.ratings.size,
          0,
        );
        // And the delta is no bigger than the state.
        assert.ok(encodeDelta(delta).length <= encodeState(a).length);
      }),
      { seed: 31, numRuns: 500 },
    );
  });

  test("encoding round-trips and is canonical", () => {
    fc.assert(
      fc.property(threeStates, ([a, b]) => {
        const encoded = encodeState(a);
        assert.deepEqual(encodeState(decodeState(encoded)), encoded);
        // Equal replicas built along different paths give equal bytes.
        assert.deepEqual(
          encodeState(join(a, b)),
          encodeState(join(decodeState(encodeState(b)), a)),
        );
      }),
      { seed: 37, numRuns: 300 },
    );
  });
});
