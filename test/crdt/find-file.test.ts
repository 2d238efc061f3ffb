// findFile answers a lookup by display name without building the listing when
// the name is held by one content; whatever path it takes, the answer must be
// the one the full listing gives, on every replica of random sessions
// (concurrent same-name adds, names that look like disambiguated labels,
// removals, ratings).
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { findFile, listFiles } from "../../src/crdt/index.ts";
import { cloneState } from "../../src/crdt/album-state.ts";
import { FILE_NAMES, scenario, simulate } from "./album-simulation.ts";

describe("findFile", () => {
  test("agrees with the listing for every display name and every plain name", () => {
    fc.assert(
      fc.property(scenario(50), (plan) => {
        const { replicas, snapshots } = simulate(plan);
        for (const state of [...replicas, ...snapshots]) {
          // A fresh copy, so no cached view answers for the listing path.
          const listing = listFiles(cloneState(state));
          for (const file of listing) {
            assert.deepEqual(findFile(cloneState(state), file.displayName), file);
          }
          for (const name of [...FILE_NAMES, "missing.jpg", "a.jpg (ann)"]) {
            assert.deepEqual(
              findFile(cloneState(state), name),
              listing.find((file) => file.displayName === name),
            );
          }
        }
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});
