// The fair work queue: never more than `concurrency` items at once, turns
// between keys (a key with one item is served within one turn of a key with
// many), the order within a key kept, aborted items never run, and a key's
// waiting items bounded.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that test returns */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { FairWorkQueue } from "../../../src/central/auth/fair-work-queue.ts";
import { ErrorCode } from "../../../src/common/album-error.ts";

/** Work items that finish when the test says so. */
function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test("a lone item of another key runs after at most one turn of a flooding key", async () => {
  const queue = new FairWorkQueue(1);
  const started: string[] = [];
  const gates: Array<() => void> = [];
  const run = (key: string, label: string): Promise<void> =>
    queue.run(key, new AbortController().signal, async () => {
      started.push(label);
      const g = gate();
      gates.push(g.open);
      await g.promise;
    });
  const all: Promise<void>[] = [];
  for (let i = 0; i < 50; i++) all.push(run("flood", `f${i}`));
  all.push(run("good", "good"));
  while (!started.includes("good")) {
    await tick();
    gates.shift()?.();
  }
  assert.ok(started.indexOf("good") <= 2, `started: ${started.slice(0, 5).join(",")}`);
  while (gates.length > 0 || queue.waitingCount > 0) {
    gates.shift()?.();
    await tick();
  }
  await Promise.all(all);
  assert.equal(started.length, 51);
});

test("any schedule: concurrency bound, per-key order, aborted items never run", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 3 }),
      fc.array(fc.record({ key: fc.integer({ min: 0, max: 3 }), abort: fc.boolean() }), {
        minLength: 1,
        maxLength: 40,
      }),
      async (concurrency, items) => {
        const queue = new FairWorkQueue(concurrency, 8);
        let running = 0;
        let peak = 0;
        const ran: Array<{ key: number; index: number }> = [];
        const controllers = items.map(() => new AbortController());
        const results = items.map(({ key }, index) =>
          queue
            .run(`k${key}`, controllers[index]!.signal, async () => {
              running++;
              peak = Math.max(peak, running);
              ran.push({ key, index });
              await tick();
              running--;
            })
            .then(
              () => "ran" as const,
              (error: { code?: unknown }) => error.code,
            ),
        );
        // Abort some while they wait (those already started finish normally).
        items.forEach(({ abort }, index) => {
          if (abort) controllers[index]!.abort();
        });
        const outcomes = await Promise.all(results);
        assert.ok(peak <= concurrency);
        for (const [index, outcome] of outcomes.entries()) {
          if (outcome === "ran") continue;
          assert.ok(
            outcome === ErrorCode.Unavailable || outcome === ErrorCode.ResourceExhausted,
            String(outcome),
          );
          assert.ok(!ran.some((r) => r.index === index), "an aborted or refused item ran");
        }
        for (let key = 0; key <= 3; key++) {
          const order = ran.filter((r) => r.key === key).map((r) => r.index);
          assert.deepEqual(
            order,
            [...order].sort((a, b) => a - b),
          );
        }
        assert.equal(queue.runningCount, 0);
        assert.equal(queue.waitingCount, 0);
      },
    ),
    { numRuns: 60 },
  );
});
