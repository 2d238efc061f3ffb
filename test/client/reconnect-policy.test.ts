// The reconnect backoff (src/client/reconnect-policy.ts): every wait lies in
// [0, min(cap, base * 2^n)), never above the cap, the ceilings double until
// the cap, and the jitter spreads clients over the whole window.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  backoffCeilingMs,
  backoffDelayMs,
  DEFAULT_BACKOFF,
} from "../../src/client/reconnect-policy.ts";
import { seededRandom } from "../support/seeded-random.ts";

const policyArbitrary = fc
  .record({
    baseMs: fc.integer({ min: 1, max: 10_000 }),
    capMs: fc.integer({ min: 1, max: 600_000 }),
  })
  .filter((p) => p.baseMs <= p.capMs);

describe("reconnect backoff", () => {
  test("every wait is within [0, min(cap, base * 2^attempt)) and never above the cap", () => {
    fc.assert(
      fc.property(
        policyArbitrary,
        fc.integer({ min: 0, max: 5000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (policy, attempt, r) => {
          const delay = backoffDelayMs(attempt, () => r, policy);
          const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
          assert.ok(Number.isInteger(delay));
          assert.ok(delay >= 0);
          assert.ok(delay < ceiling || (delay === 0 && ceiling === 0), `${delay} >= ${ceiling}`);
          assert.ok(delay <= policy.capMs);
        },
      ),
    );
  });

  test("ceilings double from the base until they reach the cap, then stay there", () => {
    fc.assert(
      fc.property(policyArbitrary, fc.integer({ min: 0, max: 60 }), (policy, attempt) => {
        const now = backoffCeilingMs(attempt, policy);
        const next = backoffCeilingMs(attempt + 1, policy);
        assert.equal(backoffCeilingMs(0, policy), policy.baseMs);
        assert.ok(next >= now);
        assert.equal(next, Math.min(policy.capMs, now * 2));
      }),
    );
  });

  test("a broken random source never yields a wait outside the window", () => {
    for (const bad of [Number.NaN, -1, 1, 2, Number.POSITIVE_INFINITY]) {
      const delay = backoffDelayMs(3, () => bad);
      assert.ok(delay >= 0 && delay < backoffCeilingMs(3));
    }
  });

  test("the jitter uses the whole window (a seeded run of 2,000 draws)", () => {
    const random = seededRandom(42);
    const draws = Array.from({ length: 2000 }, () => backoffDelayMs(10, random));
    const cap = DEFAULT_BACKOFF.capMs;
    assert.ok(Math.min(...draws) < cap * 0.05, "some waits are short");
    assert.ok(Math.max(...draws) > cap * 0.95, "some waits are near the cap");
  });
});
