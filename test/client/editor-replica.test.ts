// EditorReplica, the editor's side of the album CRDT during a session: the
// hand-off bookkeeping (what the central server is known to hold), the
// ReplicaPort the peer engine uses (remote deltas, "what do you lack"), and
// two replicas converging through that port alone.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  createAlbumState,
  decodeDelta,
  encodeState,
  join,
  decodeState,
} from "../../src/crdt/index.ts";
import { EditorReplica } from "../../src/client/session/editor-replica.ts";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import { createHash } from "node:crypto";

const KEY_A = "a".repeat(64);
const KEY_B = "b".repeat(64);
const KEY_C = "c".repeat(64);

/** The central server's copy of a new album created by `creator`. */
function serverCopy(creator: string): Uint8Array {
  return encodeState(createAlbumState(creator));
}

/** Two editors of one session on the same server copy; bob is added by alice first. */
function twoEditors(): { alice: EditorReplica; bob: EditorReplica } {
  const alice = new EditorReplica(serverCopy("alice"), { slot: 1, user: "alice" });
  const addBob = alice.addMember("bob");
  const bob = new EditorReplica(serverCopy("alice"), { slot: 2, user: "bob" });
  bob.applyRemote(addBob);
  return { alice, bob };
}

/** Runs anti-entropy from `from` to `to` through the port, as the peer engine does. */
function sync(from: EditorReplica, to: EditorReplica): boolean {
  const missing = from.encodedMissingFor(to.encodedContext());
  if (missing === undefined) return false;
  to.applyRemote(missing);
  return true;
}

describe("EditorReplica hand-off bookkeeping", () => {
  test("a fresh replica has nothing to hand off", () => {
    const replica = new EditorReplica(serverCopy("alice"), { slot: 1, user: "alice" });
    assert.equal(replica.hasUnhandedChanges, false);
  });

  test("a local change is unhanded until its receipt is acknowledged", () => {
    const replica = new EditorReplica(serverCopy("alice"), { slot: 1, user: "alice" });
    replica.addFile({ name: "one.jpg", contentKey: KEY_A, size: 10 });
    assert.equal(replica.hasUnhandedChanges, true);
    const { delta, receipt } = replica.prepareHandOff();
    assert.equal(replica.hasUnhandedChanges, true, "preparing is not handing off");
    const handed = decodeDelta(delta);
    assert.equal(handed.files.size, 1, "the hand-off carries the new file");
    replica.acknowledgeHandOff(receipt);
    assert.equal(replica.hasUnhandedChanges, false);
  });

  test("a change made while a hand-off is in flight stays unhanded after its acknowledgement", () => {
    const replica = new EditorReplica(serverCopy("alice"), { slot: 1, user: "alice" });
    replica.addFile({ name: "one.jpg", contentKey: KEY_A, size: 10 });
    const first = replica.prepareHandOff();
    replica.addFile({ name: "two.jpg", contentKey: KEY_B, size: 20 });
    replica.acknowledgeHandOff(first.receipt);
    assert.equal(replica.hasUnhandedChanges, true);
    const second = replica.prepareHandOff();
    const handed = decodeDelta(second.delta);
    assert.deepEqual(
      [...handed.files.values()].map((entry) => entry.name),
      ["two.jpg"],
      "the second hand-off sends only what the server lacks",
    );
    replica.acknowledgeHandOff(second.receipt);
    assert.equal(replica.hasUnhandedChanges, false);
  });

  test("an acknowledgement arriving late never rolls the bookkeeping back", () => {
    const replica = new EditorReplica(serverCopy("alice"), { slot: 1, user: "alice" });
    replica.addFile({ name: "one.jpg", contentKey: KEY_A, size: 10 });
    const older = replica.prepareHandOff();
    replica.addFile({ name: "two.jpg", contentKey: KEY_B, size: 20 });
    const newer = replica.prepareHandOff();
    replica.acknowledgeHandOff(newer.receipt);
    replica.acknowledgeHandOff(older.receipt);
    assert.equal(replica.hasUnhandedChanges, false);
  });

  test("a failed hand-off (never acknowledged) is sent again, whole, next time", () => {
    const replica = new EditorReplica(serverCopy("alice"), { slot: 1, user: "alice" });
    replica.addFile({ name: "one.jpg", contentKey: KEY_A, size: 10 });
    replica.prepareHandOff(); // lost
    replica.addFile({ name: "two.jpg", contentKey: KEY_B, size: 20 });
    const retry = decodeDelta(replica.prepareHandOff().delta);
    assert.deepEqual([...retry.files.values()].map((e) => e.name).sort(), ["one.jpg", "two.jpg"]);
  });

  test("remote changes count as unhanded too (a peer may crash before handing off)", () => {
    const { alice, bob } = twoEditors();
    bob.acknowledgeHandOff(bob.prepareHandOff().receipt);
    assert.equal(bob.hasUnhandedChanges, false);
    bob.applyRemote(alice.addFile({ name: "one.jpg", contentKey: KEY_A, size: 1 }));
    assert.equal(bob.hasUnhandedChanges, true);
  });

  test("the server merging every hand-off ends with the editor's state", () => {
    const replica = new EditorReplica(serverCopy("alice"), { slot: 1, user: "alice" });
    let server = decodeState(serverCopy("alice"));
    const handOff = (): void => {
      const { delta, receipt } = replica.prepareHandOff();
      server = join(server, decodeDelta(delta));
      replica.acknowledgeHandOff(receipt);
    };
    replica.addFile({ name: "one.jpg", contentKey: KEY_A, size: 10 });
    handOff();
    replica.addMember("bob");
    replica.removeFile("one.jpg");
    handOff();
    replica.addFile({ name: "three.jpg", contentKey: KEY_C, size: 30 });
    handOff();
    assert.deepEqual(encodeState(server), replica.encodedState());
  });
});

describe("EditorReplica hand-offs under random schedules", () => {
  type Step =
    | { kind: "edit"; editor: 0 | 1; file: number }
    | { kind: "rate"; editor: 0 | 1; file: number; stars: number }
    | { kind: "remove"; editor: 0 | 1; file: number }
    | { kind: "deliver"; to: 0 | 1 }
    | { kind: "handOff"; editor: 0 | 1; outcome: "acknowledged" | "lost" | "stored, reply lost" };
  const editorIndex = fc.constantFrom(0 as const, 1 as const);
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant("edit" as const), editor: editorIndex, file: fc.nat(5) }),
    fc.record({
      kind: fc.constant("rate" as const),
      editor: editorIndex,
      file: fc.nat(5),
      stars: fc.integer({ min: 0, max: 5 }),
    }),
    fc.record({ kind: fc.constant("remove" as const), editor: editorIndex, file: fc.nat(5) }),
    fc.record({ kind: fc.constant("deliver" as const), to: editorIndex }),
    fc.record({
      kind: fc.constant("handOff" as const),
      editor: editorIndex,
      outcome: fc.constantFrom(
        "acknowledged" as const,
        "lost" as const,
        "stored, reply lost" as const,
      ),
    }),
  );

  test("once each editor's last hand-off is acknowledged, the server holds every change", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const { alice, bob } = twoEditors();
        const editors = [alice, bob];
        let server = decodeState(serverCopy("alice"));
        // bob's membership reached the server with alice's first hand-off in real life.
        const first = alice.prepareHandOff();
        server = join(server, decodeDelta(first.delta));
        alice.acknowledgeHandOff(first.receipt);
        const inbox: Uint8Array[][] = [[], []];
        const handOff = (editor: EditorReplica, outcome: string): void => {
          const { delta, receipt } = editor.prepareHandOff();
          if (outcome === "lost") return;
          server = join(server, decodeDelta(delta));
          if (outcome === "acknowledged") editor.acknowledgeHandOff(receipt);
        };
        const name = (n: number): string => `f${n}.jpg`;
        for (const item of steps) {
          try {
            if (item.kind === "edit") {
              const key = createHash("sha256").update(`${item.editor}-${item.file}`).digest("hex");
              const delta = editors[item.editor]!.addFile({
                name: name(item.file),
                contentKey: key,
                size: 1,
              });
              inbox[1 - item.editor]!.push(delta);
            } else if (item.kind === "rate") {
              const delta = editors[item.editor]!.rateFile(name(item.file), item.stars);
              inbox[1 - item.editor]!.push(delta);
            } else if (item.kind === "remove") {
              const delta = editors[item.editor]!.removeFile(name(item.file));
              inbox[1 - item.editor]!.push(delta);
            } else if (item.kind === "deliver") {
              for (const delta of inbox[item.to]!.splice(0)) editors[item.to]!.applyRemote(delta);
            } else {
              handOff(editors[item.editor]!, item.outcome);
            }
          } catch (error) {
            // Refused operations (no such file, name taken) change nothing.
            assert.ok(error instanceof AlbumError, String(error));
          }
        }
        for (const editor of editors) handOff(editor, "acknowledged");
        assert.equal(alice.hasUnhandedChanges || bob.hasUnhandedChanges, false);
        const everything = join(decodeState(alice.encodedState()), decodeState(bob.encodedState()));
        assert.deepEqual(encodeState(server), encodeState(join(everything, server)));
        assert.deepEqual(encodeState(server), encodeState(everything));
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe("EditorReplica as the peer engine's ReplicaPort", () => {
  test("encodedMissingFor is undefined when the remote has everything", () => {
    const { alice, bob } = twoEditors();
    alice.addFile({ name: "one.jpg", contentKey: KEY_A, size: 10 });
    sync(alice, bob);
    assert.equal(alice.encodedMissingFor(bob.encodedContext()), undefined);
    assert.equal(bob.encodedMissingFor(alice.encodedContext()), undefined);
    assert.equal(alice.encodedMissingFor(alice.encodedContext()), undefined, "itself");
  });

  test("encodedMissingFor answers a remote that lacks something", () => {
    const { alice, bob } = twoEditors();
    alice.addFile({ name: "one.jpg", contentKey: KEY_A, size: 10 });
    const missing = alice.encodedMissingFor(bob.encodedContext());
    assert.ok(missing);
    bob.applyRemote(missing);
    assert.deepEqual(
      bob.files().map((file) => file.displayName),
      ["one.jpg"],
    );
  });

  test("a malformed remote delta or context throws (the engine counts it), leaving the replica as it was", () => {
    const { alice } = twoEditors();
    const before = alice.encodedState();
    assert.throws(() => alice.applyRemote(new Uint8Array([1, 2, 3, 4])));
    assert.throws(() => alice.encodedMissingFor(new Uint8Array([0xff, 0xff, 0xff])));
    assert.deepEqual(alice.encodedState(), before);
  });

  test("a non-member's local change is refused with PermissionDenied", () => {
    const stranger = new EditorReplica(serverCopy("alice"), { slot: 3, user: "mallory" });
    assert.throws(
      () => stranger.addFile({ name: "x.jpg", contentKey: KEY_A, size: 1 }),
      (error: { code?: string }) => error.code === ErrorCode.PermissionDenied,
    );
  });

  test("two replicas converge through the port, whatever the order of edits and syncs", () => {
    type Step =
      | { kind: "add"; editor: 0 | 1; file: number }
      | { kind: "remove"; editor: 0 | 1; file: number }
      | { kind: "rate"; editor: 0 | 1; file: number; stars: number }
      | { kind: "deliver"; index: number }
      | { kind: "sync"; from: 0 | 1 };
    const editor = fc.constantFrom<0 | 1>(0, 1);
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constant("add" as const), editor, file: fc.nat(5) }),
      fc.record({ kind: fc.constant("remove" as const), editor, file: fc.nat(5) }),
      fc.record({
        kind: fc.constant("rate" as const),
        editor,
        file: fc.nat(5),
        stars: fc.integer({ min: 0, max: 5 }),
      }),
      fc.record({ kind: fc.constant("deliver" as const), index: fc.nat(50) }),
      fc.record({ kind: fc.constant("sync" as const), from: editor }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const { alice, bob } = twoEditors();
        const replicas = [alice, bob] as const;
        // Deltas in flight, to the other editor: delivered in any order, some never (sync repairs).
        const inFlight: { to: 0 | 1; delta: Uint8Array }[] = [];
        const rated = [new Set<string>(), new Set<string>()];
        const local = (who: 0 | 1, change: () => Uint8Array): void => {
          try {
            inFlight.push({ to: who === 0 ? 1 : 0, delta: change() });
          } catch {
            // refused locally (no such file, already listed): nothing to spread
          }
        };
        for (const s of steps) {
          if (s.kind === "add") {
            const name = `f${s.file}.jpg`;
            const key = (s.editor === 0 ? "a" : "b").repeat(63) + String(s.file);
            local(s.editor, () => replicas[s.editor].addFile({ name, contentKey: key, size: 1 }));
          } else if (s.kind === "remove") {
            const file = replicas[s.editor].files()[s.file];
            if (file) local(s.editor, () => replicas[s.editor].removeFile(file.displayName));
          } else if (s.kind === "rate") {
            const file = replicas[s.editor].files()[s.file];
            if (file && !rated[s.editor]!.has(file.fileId)) {
              rated[s.editor]!.add(file.fileId);
              local(s.editor, () => replicas[s.editor].rateFile(file.displayName, s.stars));
            }
          } else if (s.kind === "deliver") {
            if (inFlight.length === 0) continue;
            const [message] = inFlight.splice(s.index % inFlight.length, 1);
            replicas[message!.to].applyRemote(message!.delta);
          } else {
            sync(replicas[s.from], replicas[s.from === 0 ? 1 : 0]);
          }
        }
        // Everything still in flight is lost; anti-entropy both ways repairs it.
        sync(alice, bob);
        sync(bob, alice);
        assert.deepEqual(alice.encodedState(), bob.encodedState());
        assert.equal(alice.describe(), bob.describe());
        assert.equal(alice.encodedMissingFor(bob.encodedContext()), undefined);
        assert.equal(bob.encodedMissingFor(alice.encodedContext()), undefined);
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});
