// The chat state machine with everything that goes wrong on a network: seeded
// random schedules of sends, delays, reorderings, duplications and losses,
// repairs between random pairs, and editors leaving cleanly with a newcomer
// taking over their slot (continuing its counter). Checked against an oracle
// of each message's causal past.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CausalChat } from "../../src/peer/causal-chat.ts";
import type { ChatEntry } from "../../src/peer/chat-history.ts";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import { formatClock, type VectorClock } from "../../src/peer/vector-clock.ts";

describe("CausalChat", () => {
  test("own messages are delivered and numbered per slot", () => {
    const chat = new CausalChat({ slot: 4, senderName: "ann" });
    const first = chat.compose("hello", 1);
    const second = chat.compose("again", 2);
    assert.equal(first.seq, 1);
    assert.equal(second.seq, 2);
    assert.equal(formatClock(second.clock), "{4:2}");
    assert.deepEqual(
      chat.history().map((e) => e.text),
      ["hello", "again"],
    );
  });

  test("refuses empty and oversized texts", () => {
    const chat = new CausalChat({ slot: 1, senderName: "ann" });
    assert.throws(
      () => chat.compose("", 0),
      (e: unknown) => e instanceof AlbumError && e.code === ErrorCode.InvalidArgument,
    );
    assert.throws(() => chat.compose("x".repeat(5000), 0), /limited to 4096 bytes/);
  });

  test("answers a repair only when the requester lacks something", () => {
    const a = new CausalChat({ slot: 1, senderName: "ann" });
    const b = new CausalChat({ slot: 2, senderName: "bob" });
    a.compose("one", 0);
    assert.equal(b.answer(a.syncRequest(false), a.slot), undefined);
    assert.ok(
      b.answer(a.syncRequest(true), a.slot),
      "a newcomer's first request is always answered",
    );
    const reply = a.answer(b.syncRequest(false), b.slot);
    assert.deepEqual(
      reply?.messages.map((e) => e.text),
      ["one"],
    );
    assert.deepEqual(
      b.receiveSyncReply(reply!, 1, () => true).map((e) => e.text),
      ["one"],
    );
  });

  test("a repair limited to a settled clock leaves out what was delivered since", () => {
    const a = new CausalChat({ slot: 1, senderName: "ann" });
    const b = new CausalChat({ slot: 2, senderName: "bob" });
    a.compose("old", 0);
    const settled = new Map(a.delivered);
    a.compose("recent", 1);
    const limited = a.answer(b.syncRequest(false), b.slot, settled)!;
    assert.deepEqual(
      limited.messages.map((e) => e.text),
      ["old"],
    );
    assert.equal(formatClock(limited.delivered), "{1:1}", "the reply claims only what it covers");
    b.receiveSyncReply(limited, 1, () => true);
    assert.equal(
      a.answer(b.syncRequest(false), b.slot, settled),
      undefined,
      "nothing settled is missing: no reply at all",
    );
    assert.deepEqual(
      a.answer(b.syncRequest(true), b.slot, settled)?.messages.map((e) => e.text),
      ["recent"],
      "a newcomer's first request still gets everything it lacks",
    );
    assert.deepEqual(
      a.answer(b.syncRequest(false), b.slot, new Map(a.delivered))?.messages.map((e) => e.text),
      ["recent"],
    );
  });

  test("a newcomer in a reused slot continues its predecessor's counter", () => {
    const old = new CausalChat({ slot: 2, senderName: "old" });
    const peer = new CausalChat({ slot: 1, senderName: "peer" });
    for (const text of ["a", "b", "c"]) peer.receive(old.compose(text, 0));
    const newcomer = new CausalChat({ slot: 2, senderName: "new" });
    const history = newcomer.receiveSyncReply(
      peer.answer(newcomer.syncRequest(true), newcomer.slot)!,
      1,
      () => true,
    );
    assert.deepEqual(
      history.map((e) => `${e.senderName}:${e.text}`),
      ["old:a", "old:b", "old:c"],
    );
    const next = newcomer.compose("d", 0);
    assert.equal(next.seq, 4);
    assert.equal(peer.receive(next).outcome, "delivered");
  });

  test("a newcomer in a reused slot that reached no peer numbers above what the server recorded", () => {
    const old = new CausalChat({ slot: 2, senderName: "old" });
    const peer = new CausalChat({ slot: 1, senderName: "peer" });
    for (const text of ["a", "b", "c"]) peer.receive(old.compose(text, 0));
    // No sync reply reached the newcomer; the central server recorded 3 for slot 2.
    const newcomer = new CausalChat({ slot: 2, senderName: "new" });
    assert.deepEqual(newcomer.numberAbove(3), []);
    const next = newcomer.compose("d", 0);
    assert.equal(next.seq, 4);
    assert.deepEqual(
      peer.receive(next).delivered.map((e) => `${e.senderName}:${e.text}`),
      ["new:d"],
    );
    // A later reply from the peer brings what the newcomer lacks of others' only.
    const later = peer.compose("e", 0);
    newcomer.receiveSyncReply(peer.answer(newcomer.syncRequest(false), 2)!, 1, () => true);
    assert.deepEqual(
      newcomer.history().map((e) => `${e.senderName}:${e.text}`),
      ["new:d", "peer:e"],
    );
    assert.equal(newcomer.delivered.get(1), later.seq);
    // Numbering above a lower floor than what was already seen changes nothing.
    newcomer.numberAbove(1);
    assert.equal(newcomer.compose("f", 0).seq, 5);
  });

  test("an author repairs its own messages beyond the history; others cannot declare them lost", () => {
    const author = new CausalChat({ slot: 1, senderName: "ann", historyCapacity: 2 });
    const witness = new CausalChat({ slot: 2, senderName: "bob", historyCapacity: 2 });
    const late = new CausalChat({ slot: 3, senderName: "cy", historyCapacity: 2 });
    for (let i = 0; i < 5; i++) witness.receive(author.compose(`m${i}`, 0));
    // The witness retains only m3, m4; while the author is present, that is no proof m0..m2 are lost.
    const fromWitness = late.receiveSyncReply(
      witness.answer(late.syncRequest(false), late.slot)!,
      2,
      () => true,
    );
    assert.deepEqual(fromWitness, []);
    assert.equal(late.heldCount, 2);
    assert.deepEqual(late.slotsWaitedFor(), [1]);
    const fromAuthor = late.receiveSyncReply(
      author.answer(late.syncRequest(false), late.slot)!,
      1,
      () => true,
    );
    assert.deepEqual(
      fromAuthor.map((e) => e.text),
      ["m0", "m1", "m2", "m3", "m4"],
    );
  });

  test("a newcomer numbers past a predecessor's message a peer still holds back", () => {
    const predecessor = new CausalChat({ slot: 2, senderName: "old" });
    const other = new CausalChat({ slot: 1, senderName: "ann" });
    const peer = new CausalChat({ slot: 3, senderName: "bob" });
    const otherFirst = other.compose("from ann", 0);
    predecessor.receive(otherFirst);
    predecessor.compose("one", 0);
    const two = predecessor.compose("two (after ann)", 0);
    // The peer got "two" but neither "one" nor ann's message yet: it holds "two".
    assert.equal(peer.receive(two).outcome, "held");
    const newcomer = new CausalChat({ slot: 2, senderName: "new" });
    newcomer.receiveSyncReply(peer.answer(newcomer.syncRequest(true), 2)!, 3, () => true);
    assert.equal(newcomer.compose("mine", 0).seq, 3, "2:2 is taken by the held message");
  });

  test("a split repair never lets a cut-off slot pass for lost", () => {
    const gone = new CausalChat({ slot: 1, senderName: "ann" });
    const responder = new CausalChat({ slot: 2, senderName: "bob", maxSyncReplyMessages: 2 });
    const behind = new CausalChat({ slot: 3, senderName: "cy" });
    responder.receive(gone.compose("a1", 0));
    responder.receive(gone.compose("a2", 0));
    responder.compose("b1", 0);
    responder.compose("b2", 0);
    const departed = (slot: number): boolean => slot !== 1;
    const received: string[] = [];
    for (let round = 0; round < 3; round++) {
      const reply = responder.answer(behind.syncRequest(false), 3);
      if (reply) received.push(...behind.receiveSyncReply(reply, 2, departed).map((e) => e.text));
    }
    assert.deepEqual(received.slice().sort(), ["a1", "a2", "b1", "b2"]);
  });

  test("a long repair is split into replies that lose nothing", () => {
    const author = new CausalChat({ slot: 1, senderName: "ann", maxSyncReplyMessages: 3 });
    const behind = new CausalChat({ slot: 2, senderName: "bob" });
    for (let i = 0; i < 8; i++) author.compose(`m${i}`, 0);
    const received: string[] = [];
    for (let round = 0; round < 3; round++) {
      const reply = author.answer(behind.syncRequest(false), behind.slot)!;
      assert.ok(reply.messages.length <= 3);
      received.push(...behind.receiveSyncReply(reply, 1, () => true).map((e) => e.text));
    }
    assert.deepEqual(received, ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"]);
    assert.equal(author.answer(behind.syncRequest(false), behind.slot), undefined);
  });

  test("messages waiting for a departed author nobody can supply are released", () => {
    const gone = new CausalChat({ slot: 1, senderName: "ann" });
    const replier = new CausalChat({ slot: 2, senderName: "bob" });
    const observer = new CausalChat({ slot: 3, senderName: "cy" });
    replier.receive(gone.compose("lost to cy", 0));
    const reply = replier.compose("answer", 0);
    assert.equal(observer.receive(reply).outcome, "held");
    assert.deepEqual(
      observer.abandonDeparted(() => true),
      [],
    );
    assert.deepEqual(
      observer.abandonDeparted((slot) => slot !== 1).map((e) => e.text),
      ["answer"],
    );
  });

  test("random losses, delays, duplicates, repairs and slot reuse: exactly once, causal, converged", () => {
    const step = fc.record({ action: fc.nat(19), a: fc.nat(), b: fc.nat() });
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }),
        fc.record({
          history: fc.constantFrom(3, 1000),
          ownLog: fc.constantFrom(4, 10_000),
          replyLimit: fc.constantFrom(2, 1000),
        }),
        fc.array(step, { minLength: 20, maxLength: 120, size: "max" }),
        (editorCount, capacities, steps) => {
          simulate(editorCount, capacities, steps);
        },
      ),
      { seed: 42, numRuns: 1500 },
    );
  });
});

interface Editor {
  readonly slot: number;
  readonly chat: CausalChat;
  /** How many messages had been sent when it joined. */
  readonly joinedAt: number;
  readonly delivered: string[];
  readonly deliveredSet: Set<string>;
  /** Its delivered clock at its previous mid-run repair: what its answers are limited to (as the engine's settled clock). */
  settled: VectorClock;
}

interface InFlight {
  readonly to: Editor;
  readonly entry: ChatEntry;
}

interface Capacities {
  history: number;
  ownLog: number;
  replyLimit: number;
}

function simulate(
  editorCount: number,
  capacities: Capacities,
  steps: readonly { action: number; a: number; b: number }[],
): void {
  let generation = 0;
  let counter = 0;
  const newEditor = (slot: number): Editor => ({
    slot,
    chat: new CausalChat({
      slot,
      senderName: `user${slot}.${generation++}`,
      historyCapacity: capacities.history,
      ownLogCapacity: capacities.ownLog,
      maxSyncReplyMessages: capacities.replyLimit,
    }),
    joinedAt: counter,
    delivered: [],
    deliveredSet: new Set(),
    settled: new Map(),
  });
  let editors: Editor[] = Array.from({ length: editorCount }, (_, slot) => newEditor(slot));
  const everyone: Editor[] = [...editors];
  /** Oracle: the messages each message's sender had delivered when sending it. */
  const causalPast = new Map<string, ReadonlySet<string>>();
  let inFlight: InFlight[] = [];
  const isPresent = (slot: number): boolean => editors.some((e) => e.slot === slot);

  const deliverAt = (editor: Editor, batch: readonly ChatEntry[]): void => {
    for (const entry of batch) {
      assert.ok(!editor.deliveredSet.has(entry.text), `${entry.text} delivered twice`);
      editor.delivered.push(entry.text);
      editor.deliveredSet.add(entry.text);
    }
  };
  /** One sync exchange; true when it brought something (delivered or now held). */
  const repair = (
    requester: Editor,
    responder: Editor,
    initial = false,
    settled?: VectorClock,
  ): boolean => {
    const request = requester.chat.syncRequest(initial);
    const reply = responder.chat.answer(request, requester.slot, settled);
    if (!reply) return false;
    const heldBefore = requester.chat.heldCount;
    const delivered = requester.chat.receiveSyncReply(reply, responder.slot, isPresent);
    deliverAt(requester, delivered);
    return delivered.length > 0 || requester.chat.heldCount > heldBefore;
  };
  const quiesce = (): void => {
    for (let pass = 0; pass < 100; pass++) {
      let progress = false;
      for (const p of editors) {
        for (const q of editors) {
          if (p !== q) while (repair(p, q)) progress = true;
        }
      }
      if (!progress) return;
    }
  };

  for (const { action, a, b } of steps) {
    if (action < 5 || inFlight.length === 0) {
      const sender = editors[a % editors.length]!;
      const text = `m${counter++}`;
      causalPast.set(text, new Set(sender.deliveredSet));
      const entry = sender.chat.compose(text, 0);
      deliverAt(sender, [entry]);
      for (const to of editors) if (to !== sender) inFlight.push({ to, entry });
    } else if (action < 15) {
      const index = b % inFlight.length;
      const flight = inFlight[index]!;
      if (action !== 14) inFlight.splice(index, 1); // 14: duplicate (stays in flight)
      if (editors.includes(flight.to)) {
        deliverAt(flight.to, flight.to.chat.receive(flight.entry).delivered);
      }
    } else if (action < 17) {
      inFlight.splice(b % inFlight.length, 1); // lost
    } else if (action < 19) {
      const p = editors[a % editors.length]!;
      const q = editors[b % editors.length]!;
      // Mid-run repairs are answered as the engine does: only with what the
      // responder had delivered at its previous one (a lagging clock).
      if (p !== q) repair(p, q, false, q.settled);
      q.settled = new Map(q.chat.delivered);
    } else {
      // The editor at a leaves cleanly (after the anti-entropy that runs
      // while it is there has settled), and a newcomer takes its slot,
      // syncing from everyone present.
      const leaver = editors[a % editors.length]!;
      quiesce();
      editors = editors.filter((e) => e !== leaver);
      inFlight = inFlight.filter((f) => f.to !== leaver);
      const newcomer = newEditor(leaver.slot);
      for (const other of editors) repair(newcomer, other, true);
      editors.push(newcomer);
      everyone.push(newcomer);
    }
  }
  // Let the network drain and anti-entropy run to quiescence.
  quiesce();
  for (const flight of inFlight) {
    if (editors.includes(flight.to)) {
      deliverAt(flight.to, flight.to.chat.receive(flight.entry).delivered);
    }
  }
  quiesce();
  // What waits for a departed author nobody could supply is released.
  for (const editor of editors) deliverAt(editor, editor.chat.abandonDeparted(isPresent));
  quiesce();

  const clocks = new Set(editors.map((e) => formatClock(e.chat.delivered)));
  assert.equal(clocks.size, 1, `delivered clocks differ: ${[...clocks].join(" ")}`);
  for (const editor of editors) {
    assert.equal(editor.chat.heldCount, 0, "messages held forever");
    // Authors keep their own messages: with a long enough log nothing sent
    // since an editor joined is lost for it.
    if (capacities.ownLog >= counter) {
      for (let i = editor.joinedAt; i < counter; i++) {
        assert.ok(editor.deliveredSet.has(`m${i}`), `m${i} never delivered at ${editor.slot}`);
      }
    }
  }
  // Causal order at every editor that ever existed: a message never after one it caused.
  for (const editor of everyone) {
    const position = new Map(editor.delivered.map((text, i) => [text, i]));
    for (const [text, i] of position) {
      for (const dep of causalPast.get(text)!) {
        const j = position.get(dep);
        if (j !== undefined) assert.ok(j < i, `${text} delivered before ${dep}`);
      }
    }
  }
}
