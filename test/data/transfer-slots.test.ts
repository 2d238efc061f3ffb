// The transfer bound of a data server as pure logic, with a fake clock: the
// stall and eviction decisions against a model (fast-check), the table's
// refusals and evictions, and the file-handle budget and size parsing that
// size it.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import {
  evictionVictim,
  nextWaiter,
  stalledSlots,
  TransferSlots,
} from "../../src/data/transfer-slots.ts";
import {
  FILE_HANDLE_RESERVE,
  parseOpenFileLimit,
  transferBudget,
} from "../../src/data/file-handle-budget.ts";
import { parseByteSize } from "../../src/data/byte-size.ts";

const slotsArb = fc
  .array(fc.integer({ min: 0, max: 100_000 }), { maxLength: 30 })
  .map((times) => times.map((lastProgress, id) => ({ id, lastProgress })));

void describe("transfer slots", () => {
  void test("stalled: exactly those idle for the timeout or longer", () => {
    fc.assert(
      fc.property(
        slotsArb,
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: 1, max: 60_000 }),
        (slots, now, timeout) => {
          const stalled = new Set(stalledSlots(slots, now, timeout).map((s) => s.id));
          for (const slot of slots)
            assert.equal(stalled.has(slot.id), now - slot.lastProgress >= timeout);
        },
      ),
    );
  });

  void test("eviction: the longest idle, and only when idle long enough", () => {
    fc.assert(
      fc.property(
        slotsArb,
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        (slots, now, grace) => {
          const victim = evictionVictim(slots, now, grace);
          const eligible = slots.filter((s) => now - s.lastProgress >= grace);
          if (eligible.length === 0) return assert.equal(victim, undefined);
          assert.ok(victim);
          assert.equal(victim.lastProgress, Math.min(...eligible.map((s) => s.lastProgress)));
        },
      ),
    );
  });

  void test("a full table makes newcomers wait, serves them by evicting idle transfers, fairly per connection", async () => {
    let now = 1_000;
    const slots = new TransferSlots(
      { maxTransfers: 3, stallTimeoutMs: 10_000, evictIdleAfterMs: 2_000, maxWaiting: 3 },
      () => now,
    );
    // A flood on one connection takes every slot and queues two more.
    const held = [
      await slots.acquire("upload", "flood"),
      await slots.acquire("upload", "flood"),
      await slots.acquire("download", "flood"),
    ];
    const floodWaiters = [slots.acquire("upload", "flood"), slots.acquire("upload", "flood")];
    const polite = slots.acquire("upload", "polite");
    await assert.rejects(
      slots.acquire("upload", "flood"),
      (e: unknown) =>
        e instanceof AlbumError &&
        e.code === ErrorCode.ResourceExhausted &&
        /busy with 3 transfers/.test(e.message),
    );
    assert.equal(slots.waiting, 3);
    // Nothing idle long enough yet: nobody is evicted.
    now += 1_000;
    slots.sweep();
    assert.ok(held.every((h) => !h.signal.aborted));
    // One flood transfer idles past the grace; the polite client gets its slot first.
    now += 1_500;
    held[1]!.progress();
    held[2]!.progress();
    slots.sweep();
    const politeSlot = await polite;
    assert.ok(held[0]!.signal.aborted, "the idle transfer was evicted");
    assert.match(
      (held[0]!.signal.reason as AlbumError).message,
      /cancelled to serve another transfer/,
    );
    assert.equal(slots.waiting, 2);
    held[0]!.release(); // idempotent after an eviction
    assert.equal(slots.size, 3);
    // A release serves the next waiter at once.
    politeSlot.release();
    const next = await Promise.race(floodWaiters);
    assert.equal(slots.size, 3);
    assert.equal(slots.waiting, 1);
    // A waiter that waits for the stall timeout is refused.
    now += 10_000;
    next.progress();
    held[1]!.progress();
    held[2]!.progress();
    slots.sweep();
    const results = await Promise.allSettled(floodWaiters);
    assert.equal(results.filter((r) => r.status === "rejected").length, 1);
  });

  void test("the next waiter: its connection holds the fewest slots, then the earliest", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ peer: fc.constantFrom("a", "b", "c", "d"), since: fc.nat(1000) }), {
          maxLength: 20,
        }),
        fc.dictionary(fc.constantFrom("a", "b", "c", "d"), fc.nat(5)),
        (waiters, held) => {
          const heldBy = (peer: string): number => held[peer] ?? 0;
          const chosen = nextWaiter(waiters, heldBy);
          if (waiters.length === 0) return assert.equal(chosen, undefined);
          assert.ok(chosen);
          const fewest = Math.min(...waiters.map((w) => heldBy(w.peer)));
          assert.equal(heldBy(chosen.peer), fewest);
          const earliest = Math.min(
            ...waiters.filter((w) => heldBy(w.peer) === fewest).map((w) => w.since),
          );
          assert.equal(chosen.since, earliest);
        },
      ),
    );
  });

  void test("the sweep cancels what made no progress for the stall timeout, and only that", async () => {
    let now = 0;
    const slots = new TransferSlots({ maxTransfers: 10, stallTimeoutMs: 5_000 }, () => now);
    const quiet = await slots.acquire("upload", "p");
    const busy = await slots.acquire("download", "p");
    now = 4_000;
    busy.progress();
    now = 5_000;
    assert.equal(slots.sweep(), 1);
    assert.ok(quiet.signal.aborted);
    assert.match((quiet.signal.reason as AlbumError).message, /upload made no progress for 5 s/);
    assert.ok(!busy.signal.aborted);
    busy.release();
    assert.equal(slots.size, 0);
  });

  void test("the budget leaves file handles in reserve", () => {
    const limits =
      "Limit  Soft Limit  Hard Limit  Units\nMax open files            1024                 524288               files\n";
    assert.equal(parseOpenFileLimit(limits), 1024);
    assert.equal(
      parseOpenFileLimit("Max open files  unlimited unlimited files"),
      Number.MAX_SAFE_INTEGER,
    );
    assert.equal(parseOpenFileLimit("nothing here"), undefined);
    assert.equal(transferBudget(512, 1024), 512);
    assert.equal(transferBudget(512, 256), 256 - FILE_HANDLE_RESERVE);
    assert.equal(transferBudget(512, 100), 1);
    assert.equal(transferBudget(512, undefined), 512);
  });

  void test("sizes given by an operator", () => {
    assert.equal(parseByteSize("64MiB"), 64 * 1024 * 1024);
    assert.equal(parseByteSize("0"), 0);
    assert.equal(parseByteSize("1.5 GB"), 1_500_000_000);
    assert.equal(parseByteSize("4096"), 4096);
    assert.throws(() => parseByteSize("-1"), /is not a size/);
    assert.throws(
      () => parseByteSize("12 parsecs", "--reserve"),
      /--reserve '12 parsecs' is not a size/,
    );
  });
});
