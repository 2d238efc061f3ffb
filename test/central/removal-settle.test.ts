// When the central server enforces a member's removal, on the real
// EditingSessions over a real store (in process, on a test clock): each
// removal waits its own settle time (two hand-off periods from when the
// server first saw the editor out of the merged album), so a removal that
// arrives while an earlier one is still settling is not enforced at the
// earlier one's time, before the concurrent hand-off that keeps the member
// could arrive. (The session simulation found it: the last two members
// removing each other just before an earlier removal settled; the one whose
// hand-off was a little late was ended although the merged album kept both.)
// An editor away when it is removed is not ended while away: it may hold the
// concurrent change that keeps it, and hands it in when it resumes.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { silentLogger } from "../../src/common/logger.ts";
import { EditorReplica } from "../../src/client/session/editor-replica.ts";
import { CentralStore } from "../../src/central/central-store.ts";
import type { ConnectionState } from "../../src/central/handler-context.ts";
import { EditingSessions } from "../../src/central/sessions/editing-sessions.ts";
import {
  createAlbumState,
  decodeState,
  encodeState,
  highestCounter,
} from "../../src/crdt/index.ts";
import { ResumeOutcome } from "../../src/gen/albumshare/central/v1/central_pb.ts";
import { makeTempDir } from "./helpers/central-process.ts";
import { inProcessConnection } from "./helpers/in-process-connection.ts";

const HAND_OFF_MS = 1000;
/** REMOVAL_SETTLE_PERIODS hand-off periods. */
const SETTLE_MS = 2 * HAND_OFF_MS;

interface Editor {
  readonly user: string;
  readonly slot: number;
  readonly resumeKey: Uint8Array;
  readonly connection: ConnectionState;
  readonly replica: EditorReplica;
  /** Why the server ended its session, if it did. */
  readonly ended: string | undefined;
}

/** An album of `ann` on the real sessions code, on a clock the test moves. */
function world(store: CentralStore, album: string) {
  store.insertAlbum(album, "ann", encodeState(createAlbumState("ann")), ["ann"]);
  const clock = { now: 0 };
  const sessions = new EditingSessions({
    store,
    logger: silentLogger(),
    now: () => clock.now,
    sweepIntervalMs: 0,
    handOffIntervalMs: HAND_OFF_MS,
  });
  const open = (user: string): Editor => {
    const ended = { reason: undefined as string | undefined };
    const connection = inProcessConnection(user, (frame) => {
      if (frame.case !== "notification") return;
      const body = frame.value.body;
      if (body.case === "sessionEnded") ended.reason = body.value.reason;
    });
    const opened = sessions.open(album, connection, user, new Uint8Array(randomBytes(32)));
    const replica = new EditorReplica(opened.replica, { slot: opened.slot, user });
    return {
      user,
      slot: opened.slot,
      resumeKey: opened.resumeKey,
      connection,
      replica,
      get ended() {
        return ended.reason;
      },
    };
  };
  const handOff = (editor: Editor, delta: Uint8Array): void =>
    sessions.handOff(album, editor.connection, delta);
  return { clock, sessions, open, handOff };
}

describe("removals settle one by one", () => {
  const temp = makeTempDir("albumshare-removal-settle-");
  const store = CentralStore.open(temp.dir);
  after(() => {
    store.close();
    temp.remove();
  });

  test("a removal seen while another settles waits its own settle time; a concurrent hand-off that keeps the member arrives in it", () => {
    const album = "trip";
    const { clock, sessions, open, handOff } = world(store, album);

    const ann = open("ann");
    handOff(ann, ann.replica.addMember("bob"));
    handOff(ann, ann.replica.addMember("cy"));
    const bob = open("bob");
    const cy = open("cy");

    // t=0: bob removes cy (seen by everyone); cy's removal settles at t=2000.
    const cyRemoved = bob.replica.removeMember("cy");
    ann.replica.applyRemote(cyRemoved);
    handOff(bob, cyRemoved);

    // t=1900: ann and bob, the last two members, remove each other at once;
    // ann's hand-off is in, bob's comes 200 ms later (well within a period).
    clock.now = 1900;
    const bobRemoved = ann.replica.removeMember("bob");
    const annRemoved = bob.replica.removeMember("ann");
    handOff(ann, bobRemoved);

    clock.now = 2000;
    sessions.sweep();
    assert.match(cy.ended ?? "", /removed/, "cy's removal settled and is enforced");
    assert.equal(bob.ended, undefined, "bob's removal is 100 ms old: not settled yet");

    clock.now = 2100;
    handOff(bob, annRemoved);
    for (clock.now = 2250; clock.now <= 2000 + 3 * SETTLE_MS; clock.now += 250) sessions.sweep();

    // The merged album keeps both (the witness rule), so nobody else is ended.
    ann.replica.applyRemote(annRemoved);
    assert.deepEqual(ann.replica.members(), ["ann", "bob"]);
    assert.equal(bob.ended, undefined);
    assert.equal(ann.ended, undefined);
    assert.equal(sessions.editorCount(album), 2);
  });

  test("an editor away when it is removed is not ended while away: its concurrent removal of the remover comes with its resume and keeps both", () => {
    const album = "away";
    const { clock, sessions, open, handOff } = world(store, album);
    const ann = open("ann");
    handOff(ann, ann.replica.addMember("bob"));
    const bob = open("bob");

    // At once: ann removes bob (handed off), bob removes ann, and bob's
    // connection drops before his hand-off.
    handOff(ann, ann.replica.removeMember("bob"));
    const annRemoved = bob.replica.removeMember("ann");
    sessions.connectionGone(bob.connection);
    for (clock.now = 250; clock.now <= 3 * SETTLE_MS; clock.now += 250) sessions.sweep();
    assert.equal(bob.ended, undefined, "not ended while away (within the grace period)");
    assert.equal(sessions.editorCount(album), 2);

    // bob comes back within the grace period and hands in his removal of ann.
    const back = inProcessConnection("bob", (frame) => bob.connection.notify(frame));
    const result = sessions.resume(album, back, "bob", {
      epoch: bob.replica.epoch,
      slot: bob.slot,
      resumeKey: bob.resumeKey,
      counter: BigInt(highestCounter(decodeState(bob.replica.encodedState()), bob.slot)),
      delta: annRemoved,
      chat: [],
      address: "",
    });
    assert.equal(result.outcome, ResumeOutcome.RESUMED);
    for (const end = clock.now + 3 * SETTLE_MS; clock.now <= end; clock.now += 250)
      sessions.sweep();
    assert.equal(bob.ended, undefined);
    assert.equal(ann.ended, undefined);
    assert.equal(sessions.editorCount(album), 2, "the merged album keeps both");
  });
});
