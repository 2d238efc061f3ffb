// Slot reuse never gives two different updates the same dot. A model of the
// central server's rules (docs/crdt.md): within an epoch a slot is reused only
// after a clean leave (the server merged the leaver's final replica, and the
// newcomer starts from the server's copy); a crashed holder's slot is retired
// until the session ends; when the last editor leaves the server compacts and
// the epoch moves on. A control run with the rule broken shows the check bites.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AlbumError } from "../../src/common/album-error.ts";
import {
  addFile,
  cloneState,
  compact,
  dotKey,
  join,
  listFiles,
  mergeInto,
  rateFile,
  removeFile,
  type AlbumDelta,
  type AlbumState,
} from "../../src/crdt/index.ts";
import { albumWithMembers, CONTENT_KEYS, FILE_NAMES, USERS } from "./album-simulation.ts";

type Action =
  | { kind: "join"; user: number; peers: number[] }
  | { kind: "op"; editor: number; op: number; pick: number }
  | { kind: "deliver"; editor: number; count: number }
  | { kind: "handoff"; editor: number }
  | { kind: "leave"; editor: number }
  | { kind: "crash"; editor: number; dropInFlight: boolean };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("join" as const),
      user: fc.nat(USERS.length - 1),
      peers: fc.array(fc.nat(7), { maxLength: 3 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("op" as const),
      editor: fc.nat(7),
      op: fc.nat(3),
      pick: fc.nat(30),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("deliver" as const),
      editor: fc.nat(7),
      count: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("handoff" as const), editor: fc.nat(7) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("leave" as const), editor: fc.nat(7) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("crash" as const),
      editor: fc.nat(7),
      dropInFlight: fc.boolean(),
    }),
  },
);

interface Editor {
  user: string;
  slot: number;
  state: AlbumState;
  inbox: AlbumDelta[];
}

interface Outcome {
  /** Dots that two different deltas carried: must stay empty. */
  collisions: string[];
  deltas: number;
  reusedSlots: number;
  epochs: number;
}

/** Runs the central server's slot rules; `reuseCrashedSlots` breaks them on purpose. */
function runSessions(actions: readonly Action[], reuseCrashedSlots: boolean): Outcome {
  let server = albumWithMembers(USERS.length);
  const editors: Editor[] = [];
  let freeSlots: number[] = [];
  let nextSlot = 1;
  const dotOwners = new Map<string, number>();
  const collisions: string[] = [];
  let deltas = 0;
  let reusedSlots = 0;
  let epochs = 1;

  const record = (delta: AlbumDelta): void => {
    const id = deltas++;
    const dots = [...delta.causal.cloud];
    for (const [slot, counter] of delta.causal.versionVector) {
      for (let c = 1; c <= counter; c++) dots.push(dotKey(slot, c));
    }
    for (const key of dots) {
      const name = `${delta.epoch}/${key}`;
      if (dotOwners.has(name) && dotOwners.get(name) !== id) collisions.push(name);
      dotOwners.set(name, id);
    }
  };
  const endOfSessionCheck = (): void => {
    if (editors.length > 0) return;
    server = compact(server);
    freeSlots = [];
    nextSlot = 1;
    epochs++;
  };

  for (const item of actions) {
    const editor =
      editors.length === 0
        ? undefined
        : editors[("editor" in item ? item.editor : 0) % editors.length];
    switch (item.kind) {
      case "join": {
        const user = USERS[item.user]!;
        if (editors.some((e) => e.user === user)) break;
        const reused = freeSlots.pop();
        if (reused !== undefined) reusedSlots++;
        const slot = reused ?? nextSlot++;
        // The newcomer starts from the server's copy, then takes the peers' newer state.
        let state = cloneState(server);
        for (const p of item.peers)
          if (editors.length > 0) state = join(state, editors[p % editors.length]!.state);
        editors.push({ user, slot, state, inbox: [] });
        break;
      }
      case "op": {
        if (!editor) break;
        try {
          const files = listFiles(editor.state);
          const pick = files.length === 0 ? "none" : files[item.pick % files.length]!.displayName;
          const delta =
            item.op === 0 || files.length === 0
              ? addFile(editor.state, editor, {
                  name: `${FILE_NAMES[item.pick % 3]!}-${item.pick}`,
                  contentKey: CONTENT_KEYS[item.pick % 4]!,
                  size: item.pick,
                })
              : item.op === 1
                ? removeFile(editor.state, editor, pick)
                : rateFile(editor.state, editor, pick, item.pick % 6);
          record(delta);
          for (const other of editors) if (other !== editor) other.inbox.push(delta);
        } catch (error) {
          assert.ok(error instanceof AlbumError, String(error));
        }
        break;
      }
      case "deliver":
        if (editor)
          for (const delta of editor.inbox.splice(0, item.count)) mergeInto(editor.state, delta);
        break;
      case "handoff":
        if (editor) server = join(server, editor.state);
        break;
      case "leave":
        if (!editor) break;
        server = join(server, editor.state);
        editors.splice(editors.indexOf(editor), 1);
        freeSlots.push(editor.slot);
        endOfSessionCheck();
        break;
      case "crash":
        if (!editor) break;
        editors.splice(editors.indexOf(editor), 1);
        if (item.dropInFlight)
          for (const other of editors)
            other.inbox = other.inbox.filter((d) => !ownedBy(d, editor.slot));
        if (reuseCrashedSlots) freeSlots.push(editor.slot);
        endOfSessionCheck();
        break;
    }
  }
  return { collisions, deltas, reusedSlots, epochs };
}

const ownedBy = (delta: AlbumDelta, slot: number): boolean =>
  delta.causal.versionVector.has(slot) ||
  [...delta.causal.cloud].some((k) => Math.floor(k / 2 ** 32) === slot);

const plans = fc.array(action, { minLength: 20, maxLength: 120, size: "max" });

describe("session slots", () => {
  test("reuse after a clean leave, retirement after a crash: no dot is ever used twice", () => {
    let deltas = 0;
    let reused = 0;
    let epochs = 0;
    fc.assert(
      fc.property(plans, (actions) => {
        const outcome = runSessions(actions, false);
        assert.deepEqual(outcome.collisions, []);
        deltas += outcome.deltas;
        reused += outcome.reusedSlots;
        epochs += outcome.epochs;
      }),
      { seed: 53, numRuns: 400 },
    );
    assert.ok(
      reused > 200 && epochs > 400 && deltas > 5000,
      `weak coverage: ${reused} ${epochs} ${deltas}`,
    );
  });

  test("control: reusing a crashed holder's slot in the same epoch does collide", () => {
    const result = fc.check(
      fc.property(plans, (actions) => runSessions(actions, true).collisions.length === 0),
      { seed: 53, numRuns: 400 },
    );
    assert.equal(result.failed, true, "the model no longer exercises the crash case");
  });
});
