// Login throttling as pure bookkeeping, against its stated rules: free
// failures cost nothing, then attempts are spaced by a delay that doubles per
// failure up to the ceiling, attempts beyond the longest wait are refused,
// a success clears the key, old failures are forgotten, and the number of
// keys tracked stays bounded whatever the number of sources.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that test returns */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { LoginThrottle, type ThrottlePolicy } from "../../../src/central/auth/login-throttle.ts";

const policy: ThrottlePolicy = {
  freeFailures: 3,
  baseDelayMs: 100,
  maxDelayMs: 1_600,
  maxWaitMs: 5_000,
  forgetAfterMs: 60_000,
  maxTracked: 50,
};

test("delays are free, then double, then stay at the ceiling", () => {
  const throttle = new LoginThrottle(policy);
  const delays = Array.from({ length: 10 }, (_, failures) => throttle.delayAfter(failures));
  assert.deepEqual(delays, [0, 0, 0, 100, 200, 400, 800, 1600, 1600, 1600]);
});

test("concurrent attempts of a throttled key are spaced, and refused past the longest wait", () => {
  const throttle = new LoginThrottle(policy);
  for (let i = 0; i < 7; i++) throttle.failed("10.0.0.1", 0);
  // Seven failures: spacing 1,600 ms; the next turn starts 1,600 ms after the last failure.
  const waits: number[] = [];
  let refused = 0;
  for (let i = 0; i < 10; i++) {
    const admission = throttle.admit("10.0.0.1", 0);
    if (admission.admitted) waits.push(admission.waitMs);
    else refused++;
  }
  assert.deepEqual(waits, [1600, 3200, 4800]);
  assert.equal(refused, 7);
  // Another key is not affected.
  assert.deepEqual(throttle.admit("10.0.0.2", 0), { admitted: true, waitMs: 0 });
});

test("any sequence: waits never exceed the bound, success clears, memory is bounded", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          key: fc.integer({ min: 0, max: 80 }),
          action: fc.constantFrom("admit", "fail", "succeed"),
          advanceMs: fc.integer({ min: 0, max: 20_000 }),
        }),
        { maxLength: 300 },
      ),
      (steps) => {
        const throttle = new LoginThrottle(policy);
        let now = 0;
        for (const { key, action, advanceMs } of steps) {
          now += advanceMs;
          const name = `k${key}`;
          if (action === "fail") throttle.failed(name, now);
          else if (action === "succeed") {
            throttle.succeeded(name);
            assert.deepEqual(throttle.admit(name, now), { admitted: true, waitMs: 0 });
          } else {
            const admission = throttle.admit(name, now);
            if (admission.admitted) assert.ok(admission.waitMs <= policy.maxWaitMs);
            else assert.ok(admission.retryInMs > policy.maxWaitMs);
          }
          assert.ok(throttle.trackedKeys <= policy.maxTracked);
        }
        // Long after everything, every key starts afresh.
        now += policy.forgetAfterMs + 1;
        for (let key = 0; key <= 80; key++) {
          assert.deepEqual(throttle.admit(`k${key}`, now), { admitted: true, waitMs: 0 });
        }
      },
    ),
  );
});
