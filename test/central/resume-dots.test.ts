// The resume rule under random schedules, run on the real EditingSessions
// and the real SQLite store (in process): editors open, edit, spread their
// changes to each other, hand off, lose their connection and resume, crash,
// leave; the server restarts (a new EditingSessions on the same store) and
// away slots expire. After each schedule: no dot was ever used by two
// different changes, and every change the server acknowledged or a surviving
// editor still held is in the album. Two controls show the checks bite: a
// restart that forgets which slots were held (their holders' slots handed to
// newcomers) reuses dots; a restart that forgets the slot table (the old
// rule: compact) loses changes live editors held.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AlbumError } from "../../src/common/album-error.ts";
import { silentLogger } from "../../src/common/logger.ts";
import { EditorReplica } from "../../src/client/session/editor-replica.ts";
import { CentralStore } from "../../src/central/central-store.ts";
import type { ConnectionState } from "../../src/central/handler-context.ts";
import { EditingSessions } from "../../src/central/sessions/editing-sessions.ts";
import {
  createAlbumState,
  decodeDelta,
  decodeState,
  dotKey,
  encodeState,
  highestCounter,
  listFiles,
} from "../../src/crdt/index.ts";
import { ResumeOutcome } from "../../src/gen/albumshare/central/v1/central_pb.ts";
import { CONTENT_KEYS } from "../crdt/album-simulation.ts";
import { makeTempDir } from "./helpers/central-process.ts";
import { inProcessConnection as connection } from "./helpers/in-process-connection.ts";

/**
 * A fresh peer public key, as every editor sends one per session. The central
 * server records it as 32 opaque bytes, so random bytes do, at no cost for
 * the thousands this test makes. (This test once hung in the old
 * SessionKeys.generate(): exporting generateKeyPairSync's KeyObjects can
 * deadlock Node 20; see src/common/x25519-key-pair.ts.)
 */
const freshKey = (): Uint8Array => new Uint8Array(randomBytes(32));

const USERS = ["ann", "bob", "cy", "dee"];
const GRACE_MS = 1000;

type Step =
  | { kind: "open"; user: number }
  | { kind: "add"; editor: number }
  | { kind: "spread"; from: number; to: number }
  | { kind: "handOff"; editor: number }
  | { kind: "drop"; editor: number }
  | { kind: "resume"; editor: number }
  | { kind: "crash"; editor: number }
  | { kind: "put"; editor: number }
  | { kind: "restart" }
  | { kind: "expire" };

const editorIndex = fc.nat(7);
const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("open" as const), user: fc.nat(3) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("add" as const), editor: editorIndex }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("spread" as const),
      from: editorIndex,
      to: editorIndex,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("handOff" as const), editor: editorIndex }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("drop" as const), editor: editorIndex }) },
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant("resume" as const), editor: editorIndex }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("crash" as const), editor: editorIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("put" as const), editor: editorIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("restart" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("expire" as const) }) },
);

interface Editor {
  user: string;
  slot: number;
  resumeKey: Uint8Array;
  replica: EditorReplica;
  connection: ConnectionState;
  away: boolean;
  /** When it lost the server (the test's clock). */
  awayAt: number;
}

/** How a restart treats the durable slot table: as built, or broken on purpose. */
type RestartKind = "durable" | "forgetHeld" | "forgetTable";

interface Outcome {
  collisions: string[];
  lost: string[];
  resumed: number;
  restarts: number;
  adds: number;
}

function run(
  store: CentralStore,
  album: string,
  steps: readonly Step[],
  restartKind: RestartKind,
): Outcome {
  store.insertAlbum(album, USERS[0]!, encodeState(createAlbumState(USERS[0]!)), [USERS[0]!]);
  let clock = 0;
  const start = () =>
    new EditingSessions({
      store,
      logger: silentLogger(),
      resumeGraceMs: GRACE_MS,
      now: () => clock,
      sweepIntervalMs: 0,
    });
  let sessions = start();
  // The creator's first session makes everybody a member (then compaction).
  const setupConnection = connection(USERS[0]!);
  const setup = sessions.open(album, setupConnection, USERS[0]!, freshKey());
  const setupReplica = new EditorReplica(setup.replica, { slot: setup.slot, user: USERS[0]! });
  for (const user of USERS.slice(1)) setupReplica.addMember(user);
  sessions.put(album, setupConnection, setupReplica.encodedState());

  const editors: Editor[] = [];
  const dotOwners = new Map<string, string>();
  const outcome: Outcome = { collisions: [], lost: [], resumed: 0, restarts: 0, adds: 0 };
  const acknowledged = new Set<string>();
  /** What editors refused while still within their grace period held: must not be lost. */
  const mustKeep = new Set<string>();
  const refused = (editor: Editor): void => {
    if (clock < editor.awayAt + GRACE_MS)
      for (const name of filesOf(editor.replica)) mustKeep.add(name);
    discard(editor);
  };
  let fileNumber = 0;

  const pick = (index: number): Editor | undefined =>
    editors.length === 0 ? undefined : editors[index % editors.length];
  const discard = (editor: Editor): void => void editors.splice(editors.indexOf(editor), 1);
  const filesOf = (replica: EditorReplica): string[] => replica.files().map((f) => f.name);
  const handOffWith = (editor: Editor, send: (delta: Uint8Array) => void): void => {
    const files = filesOf(editor.replica);
    const prepared = editor.replica.prepareHandOff();
    send(prepared.delta);
    editor.replica.acknowledgeHandOff(prepared.receipt);
    for (const name of files) acknowledged.add(name);
  };

  for (const step of steps) {
    try {
      switch (step.kind) {
        case "open": {
          const user = USERS[step.user]!;
          if (editors.some((e) => e.user === user && !e.away)) break;
          // An away editor of the same user is replaced (its slot retired by the server).
          for (const e of editors.filter((x) => x.user === user)) discard(e);
          const conn = connection(user);
          const opened = sessions.open(album, conn, user, freshKey());
          editors.push({
            user,
            slot: opened.slot,
            resumeKey: opened.resumeKey,
            replica: new EditorReplica(opened.replica, { slot: opened.slot, user }),
            connection: conn,
            away: false,
            awayAt: 0,
          });
          break;
        }
        case "add": {
          const editor = pick(step.editor);
          if (!editor) break;
          const name = `f${fileNumber++}.jpg`;
          const delta = decodeDelta(
            editor.replica.addFile({ name, contentKey: CONTENT_KEYS[0]!, size: 1 }),
          );
          outcome.adds++;
          const dots = [...delta.causal.cloud];
          for (const [slot, counter] of delta.causal.versionVector) {
            for (let c = 1; c <= counter; c++) dots.push(dotKey(slot, c));
          }
          for (const key of dots) {
            const id = `${delta.epoch}/${key}`;
            const owner = dotOwners.get(id);
            if (owner !== undefined && owner !== name)
              outcome.collisions.push(`${id}: ${owner}, ${name}`);
            dotOwners.set(id, name);
          }
          break;
        }
        case "spread": {
          const from = pick(step.from);
          const to = pick(step.to);
          if (!from || !to || from === to || from.replica.epoch !== to.replica.epoch) break;
          const missing = from.replica.encodedMissingFor(to.replica.encodedContext());
          if (missing) to.replica.applyRemote(missing);
          break;
        }
        case "handOff": {
          const editor = pick(step.editor);
          if (!editor || editor.away) break;
          handOffWith(editor, (delta) => sessions.handOff(album, editor.connection, delta));
          break;
        }
        case "drop": {
          const editor = pick(step.editor);
          if (!editor || editor.away) break;
          sessions.connectionGone(editor.connection);
          editor.away = true;
          editor.awayAt = clock;
          break;
        }
        case "resume": {
          const editor = pick(step.editor);
          if (!editor || !editor.away) break;
          const conn = connection(editor.user);
          const files = filesOf(editor.replica);
          const prepared = editor.replica.prepareHandOff();
          let result;
          try {
            result = sessions.resume(album, conn, editor.user, {
              epoch: editor.replica.epoch,
              slot: editor.slot,
              resumeKey: editor.resumeKey,
              counter: BigInt(highestCounter(editor.replica.state, editor.slot)),
              delta: prepared.delta,
              chat: [],
              address: "",
            });
          } catch (error) {
            // The session moved on (stale), or the slot is not its own: the
            // editor is gone with what only it held.
            assert.ok(error instanceof AlbumError, String(error));
            refused(editor);
            break;
          }
          if (result.outcome === ResumeOutcome.COUNTER_BEHIND) {
            // It states its own counter: behind only if it is not the slot's latest replica.
            refused(editor);
            break;
          }
          editor.replica.acknowledgeHandOff(prepared.receipt);
          for (const name of files) acknowledged.add(name);
          if (result.outcome === ResumeOutcome.RESUMED) {
            editor.connection = conn;
            editor.away = false;
            outcome.resumed++;
          } else {
            discard(editor);
          }
          break;
        }
        case "crash": {
          const editor = pick(step.editor);
          if (!editor) break;
          if (!editor.away) sessions.connectionGone(editor.connection);
          discard(editor);
          break;
        }
        case "put": {
          const editor = pick(step.editor);
          if (!editor || editor.away) break;
          handOffWith(editor, (delta) => sessions.put(album, editor.connection, delta));
          discard(editor);
          break;
        }
        case "restart": {
          sessions.stopAll();
          if (restartKind === "forgetHeld") {
            // One held slot stays, so the session is still recovered.
            store.database
              .prepare(
                `UPDATE session_slots SET state = 'reusable' WHERE album = ? AND state = 'held'
                 AND slot > (SELECT MIN(slot) FROM session_slots WHERE album = ? AND state = 'held')`,
              )
              .run(album, album);
          } else if (restartKind === "forgetTable") {
            store.database.prepare("DELETE FROM session_slots").run();
          }
          sessions = start();
          for (const editor of editors) {
            if (!editor.away) editor.awayAt = clock;
            editor.away = true;
          }
          outcome.restarts++;
          break;
        }
        case "expire": {
          clock += GRACE_MS + 1;
          sessions.sweep();
          break;
        }
      }
    } catch (error) {
      // Refusals (e.g. a user who already edits elsewhere) are part of the game.
      assert.ok(error instanceof AlbumError, String(error));
    }
  }

  // Everyone still around comes back and leaves cleanly; then the album is read.
  for (const editor of [...editors]) {
    if (editor.away) {
      const conn = connection(editor.user);
      const prepared = editor.replica.prepareHandOff();
      try {
        const result = sessions.resume(album, conn, editor.user, {
          epoch: editor.replica.epoch,
          slot: editor.slot,
          resumeKey: editor.resumeKey,
          counter: BigInt(highestCounter(editor.replica.state, editor.slot)),
          delta: prepared.delta,
          chat: [],
          address: "",
        });
        if (result.outcome === ResumeOutcome.COUNTER_BEHIND) {
          refused(editor);
          continue;
        }
        for (const name of filesOf(editor.replica)) acknowledged.add(name);
        if (result.outcome !== ResumeOutcome.RESUMED) {
          discard(editor);
          continue;
        }
        editor.connection = conn;
      } catch {
        refused(editor);
        continue;
      }
    }
    handOffWith(editor, (delta) => sessions.put(album, editor.connection, delta));
  }
  const reader = connection(USERS[0]!);
  const final = new Set(
    listFiles(decodeState(sessions.open(album, reader, USERS[0]!, freshKey()).replica)).map(
      (f) => f.name,
    ),
  );
  outcome.lost = [...acknowledged, ...mustKeep].filter((name) => !final.has(name));
  sessions.stopAll();
  return outcome;
}

const plans = fc.array(stepArbitrary, { minLength: 20, maxLength: 80, size: "max" });

// Each schedule runs synchronously; between schedules the test hands the
// event loop back, so that nothing this process owes its test runner (the
// run's reports, a timeout, a signal) waits for all 100 schedules. A whole
// property run used to hold the loop for tens of seconds on a loaded machine.
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("resuming editing sessions: the slot rule under random schedules", () => {
  const temp = makeTempDir("albumshare-resume-dots-");
  const store = CentralStore.open(temp.dir);
  // Durability against a crash of the process is not what this checks (a
  // restart here is a new EditingSessions on the same open database).
  store.database.pragma("synchronous = OFF");
  let album = 0;

  after(() => {
    store.close();
    temp.remove();
  });

  test("no dot is used twice and nothing acknowledged or held by a surviving editor is lost", async () => {
    const totals = { resumed: 0, restarts: 0, adds: 0 };
    await fc.assert(
      fc.asyncProperty(plans, async (steps) => {
        await nextTurn();
        const outcome = run(store, `album${album++}`, steps, "durable");
        assert.deepEqual(outcome.collisions, []);
        assert.deepEqual(outcome.lost, []);
        totals.resumed += outcome.resumed;
        totals.restarts += outcome.restarts;
        totals.adds += outcome.adds;
      }),
      { seed: 11, numRuns: 100 },
    );
    assert.ok(
      totals.resumed > 100 && totals.restarts > 100 && totals.adds > 500,
      `weak coverage: ${JSON.stringify(totals)}`,
    );
  });

  test("control: a restart that hands held slots to newcomers reuses dots", async () => {
    const result = await fc.check(
      fc.asyncProperty(plans, async (steps) => {
        await nextTurn();
        return run(store, `album${album++}`, steps, "forgetHeld").collisions.length === 0;
      }),
      { seed: 11, numRuns: 100 },
    );
    assert.equal(result.failed, true, "the schedules no longer exercise a resume after a restart");
  });

  test("control: a restart that forgets the slot table (compacting instead) loses held changes", async () => {
    const result = await fc.check(
      fc.asyncProperty(plans, async (steps) => {
        await nextTurn();
        return run(store, `album${album++}`, steps, "forgetTable").lost.length === 0;
      }),
      { seed: 11, numRuns: 100 },
    );
    assert.equal(result.failed, true, "the schedules no longer exercise a resume after a restart");
  });
});
