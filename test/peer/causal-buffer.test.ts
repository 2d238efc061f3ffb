// Causal delivery, exhaustively: seeded random schedules of sends, delayed,
// reordered and duplicated deliveries between 2-5 processes, checked against
// an independent oracle (the set of messages each sender had delivered when it
// sent), plus the unit cases of the hold-back buffer.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CausalBuffer, type CausalMessage } from "../../src/peer/causal-buffer.ts";
import { formatClock, withCounter, type VectorClock } from "../../src/peer/vector-clock.ts";

interface TestMessage extends CausalMessage {
  readonly id: string;
  /** Oracle: ids the sender had delivered when sending (its causal past). */
  readonly deps: ReadonlySet<string>;
}

const message = (slot: number, seq: number, clock: Record<number, number>): TestMessage => ({
  slot,
  seq,
  clock: new Map(Object.entries(clock).map(([s, c]) => [Number(s), c])),
  id: `${slot}:${seq}`,
  deps: new Set(),
});

describe("CausalBuffer", () => {
  test("delivers in order, holds what waits, drops duplicates", () => {
    const buffer = new CausalBuffer<TestMessage>();
    assert.equal(buffer.receive(message(1, 2, { 1: 2 })).outcome, "held");
    assert.equal(buffer.receive(message(2, 1, { 1: 2, 2: 1 })).outcome, "held");
    assert.equal(buffer.receive(message(1, 2, { 1: 2 })).outcome, "duplicate");
    const result = buffer.receive(message(1, 1, { 1: 1 }));
    assert.equal(result.outcome, "delivered");
    assert.deepEqual(
      result.delivered.map((m) => m.id),
      ["1:1", "1:2", "2:1"],
    );
    assert.equal(buffer.heldCount, 0);
    assert.equal(buffer.receive(message(2, 1, { 1: 2, 2: 1 })).outcome, "duplicate");
  });

  test("refuses a message whose clock disagrees with its sequence number", () => {
    const buffer = new CausalBuffer<TestMessage>();
    assert.equal(buffer.receive(message(1, 2, { 1: 1 })).outcome, "invalid");
    assert.equal(buffer.receive(message(1, 0, {})).outcome, "invalid");
  });

  test("a newcomer continues a reused slot's counter from the clock it is handed", () => {
    const buffer = new CausalBuffer<TestMessage>({ initialDelivered: new Map([[3, 5]]) });
    const stamp = buffer.nextStamp(3);
    assert.equal(stamp.seq, 6);
    assert.equal(formatClock(stamp.clock), "{3:6}");
    assert.equal(buffer.receive(message(3, 4, { 3: 4 })).outcome, "duplicate");
    assert.equal(buffer.receive({ ...message(3, 6, {}), clock: stamp.clock }).outcome, "delivered");
  });

  test("bounds the number of held messages", () => {
    const buffer = new CausalBuffer<TestMessage>({ maxHeld: 2 });
    assert.equal(buffer.receive(message(1, 3, { 1: 3 })).outcome, "held");
    assert.equal(buffer.receive(message(1, 4, { 1: 4 })).outcome, "held");
    assert.equal(buffer.receive(message(1, 5, { 1: 5 })).outcome, "overflow");
    // Deliverable messages are never refused.
    assert.equal(buffer.receive(message(2, 1, { 2: 1 })).outcome, "delivered");
  });

  test("fastForward skips what is lost for good and releases what it unblocks", () => {
    const buffer = new CausalBuffer<TestMessage>();
    buffer.receive(message(1, 4, { 1: 4 }));
    buffer.receive(message(2, 1, { 1: 4, 2: 1 }));
    const delivered = buffer.fastForward(new Map([[1, 3]]));
    assert.deepEqual(
      delivered.map((m) => m.id),
      ["1:4", "2:1"],
    );
    assert.equal(buffer.heldCount, 0);
  });

  test("fastForward never skips a message it holds, unless told to", () => {
    const buffer = new CausalBuffer<TestMessage>();
    buffer.receive(message(1, 2, { 1: 2, 3: 1 }));
    buffer.receive(message(1, 5, { 1: 5 }));
    assert.deepEqual(buffer.fastForward(new Map([[1, 6]])), []);
    assert.equal(buffer.deliveredCount(1), 1, "stops below the held 1:2");
    assert.equal(buffer.seenCount(1), 5);
    assert.deepEqual(buffer.fastForward(new Map([[1, 6]]), true), []);
    assert.equal(buffer.deliveredCount(1), 6);
    assert.equal(buffer.heldCount, 0);
  });

  test("receiveSnapshot adopts a peer's clock and history (newcomer)", () => {
    const buffer = new CausalBuffer<TestMessage>();
    // The peer delivered 1:1..1:7 and 2:1..2:2 but retains only 1:6, 2:2, 1:7.
    const history = [
      message(1, 6, { 1: 6, 2: 1 }),
      message(2, 2, { 1: 6, 2: 2 }),
      message(1, 7, { 1: 7, 2: 2 }),
    ];
    const delivered = buffer.receiveSnapshot(
      history,
      new Map([
        [1, 7],
        [2, 2],
      ]),
    );
    assert.deepEqual(
      delivered.map((m) => m.id),
      ["1:6", "2:2", "1:7"],
    );
    assert.equal(formatClock(buffer.delivered), "{1:7, 2:2}");
  });

  test("random delays, reorderings and duplications: exactly once, causal order, own messages", () => {
    const step = fc.record({ action: fc.nat(9), a: fc.nat(), b: fc.nat() });
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }),
        fc.array(step, { minLength: 20, maxLength: 160, size: "max" }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 400, size: "max" }),
        (processCount, steps, flushOrder) => {
          simulate(processCount, steps, flushOrder);
        },
      ),
      { seed: 42, numRuns: 2500 },
    );
  });
});

interface Process {
  readonly slot: number;
  readonly buffer: CausalBuffer<TestMessage>;
  readonly delivered: string[];
  readonly deliveredSet: Set<string>;
}

interface InFlight {
  readonly to: number;
  readonly message: TestMessage;
}

function simulate(
  processCount: number,
  steps: readonly { action: number; a: number; b: number }[],
  flushOrder: readonly number[],
): void {
  // Slots need not be contiguous or start at 0.
  const processes: Process[] = Array.from({ length: processCount }, (_, i) => ({
    slot: i * 3 + 1,
    buffer: new CausalBuffer<TestMessage>(),
    delivered: [],
    deliveredSet: new Set(),
  }));
  const sent: TestMessage[] = [];
  let inFlight: InFlight[] = [];

  const deliverAt = (process: Process, batch: readonly TestMessage[]): void => {
    for (const m of batch) {
      assert.ok(!process.deliveredSet.has(m.id), `${m.id} delivered twice at ${process.slot}`);
      for (const dep of m.deps) {
        assert.ok(
          process.deliveredSet.has(dep),
          `${m.id} delivered before ${dep} at ${process.slot}`,
        );
      }
      process.delivered.push(m.id);
      process.deliveredSet.add(m.id);
    }
  };

  const receive = (flight: InFlight): void => {
    const process = processes[flight.to]!;
    const result = process.buffer.receive(flight.message);
    assert.notEqual(result.outcome, "invalid");
    assert.notEqual(result.outcome, "overflow");
    deliverAt(process, result.delivered);
  };

  for (const { action, a, b } of steps) {
    if (action < 3 || inFlight.length === 0) {
      const sender = processes[a % processCount]!;
      const { seq, clock } = sender.buffer.nextStamp(sender.slot);
      const m: TestMessage = {
        slot: sender.slot,
        seq,
        clock,
        id: `${sender.slot}:${seq}`,
        deps: new Set(sender.deliveredSet),
      };
      sent.push(m);
      // Own messages are delivered at once, through the same buffer.
      const own = sender.buffer.receive(m);
      assert.equal(own.outcome, "delivered");
      deliverAt(sender, own.delivered);
      processes.forEach((_, to) => {
        if (to !== a % processCount) inFlight.push({ to, message: m });
      });
      continue;
    }
    const index = b % inFlight.length;
    const flight = inFlight[index]!;
    // action 9 duplicates: the copy stays in flight and arrives again later.
    if (action !== 9) inFlight.splice(index, 1);
    receive(flight);
  }
  // Deliver the rest in a random order.
  let cursor = 0;
  while (inFlight.length > 0) {
    const index = (flushOrder[cursor++ % Math.max(1, flushOrder.length)] ?? 0) % inFlight.length;
    const [flight] = inFlight.splice(index, 1);
    receive(flight!);
  }
  inFlight = [];
  for (const process of processes) {
    assert.equal(process.buffer.heldCount, 0, `messages still held at ${process.slot}`);
    assert.equal(
      process.delivered.length,
      sent.length,
      `not everything delivered at ${process.slot}`,
    );
  }
  const expected: VectorClock = sent.reduce<VectorClock>(
    (clock, m) => withCounter(clock, m.slot, Math.max(m.seq, clock.get(m.slot) ?? 0)),
    new Map(),
  );
  for (const process of processes) {
    assert.equal(formatClock(process.buffer.delivered), formatClock(expected));
  }
}
