// A resume that races the holder's own changes (docs/crdt.md, rule 5), on the
// real album-session cores of two editors and the real central session code
// (EditingSessions over a CentralStore, restarted): after a central restart
// ann's resume states her slot's counter; before it arrives she makes one more
// change, which reaches bob over the mesh, and bob's resume hands it in first.
// The server's copy of ann's slot is then above her claim. She holds every
// event of her slot (she made them), so she claims again with her counter as
// it stands and goes on editing; nothing is lost. A replica that really is
// behind (not the holder's latest) is still refused, and nothing of it merged.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CentralStore } from "../../src/central/central-store.ts";
import type { ConnectionState } from "../../src/central/handler-context.ts";
import type { OpenedAlbum, ResumedAlbum } from "../../src/client/central-client.ts";
import { AlbumSessionCore } from "../../src/client/session/album-session-core.ts";
import type { SessionAction } from "../../src/client/session/session-actions.ts";
import { AlbumError } from "../../src/common/album-error.ts";
import {
  addMember,
  compact,
  createAlbumState,
  encodeState,
  highestCounter,
  listFiles,
  listMembers,
} from "../../src/crdt/index.ts";
import { makeTempDir } from "../central/helpers/central-process.ts";
import { inProcessConnection as connection } from "../central/helpers/in-process-connection.ts";
import { SimCentral, type SimRequest } from "../peer/fixtures/sim-central.ts";

const ALBUM = "trip";
const temp = makeTempDir("albumshare-resume-race-");
after(() => temp.remove());

/** One editor: its album-session core and its current connection to the server. */
interface Editor {
  readonly user: string;
  readonly core: AlbumSessionCore;
  connection: ConnectionState;
  readonly opened?: OpenedAlbum;
}

function setUp(): {
  central: SimCentral;
  ann: Editor & { opened: OpenedAlbum };
  bob: Editor;
  store: CentralStore;
} {
  const store = CentralStore.open(mkdtempSync(join(temp.dir, "store-")));
  let state = createAlbumState("ann");
  addMember(state, { slot: 1, user: "ann" }, "bob");
  state = compact(state);
  store.insertAlbum(ALBUM, "ann", encodeState(state), listMembers(state));
  const central = new SimCentral({
    store,
    now: () => 0,
    resumeGraceMs: 60_000,
    handOffIntervalMs: 1000,
  });
  const open = (user: string, key: number): Editor & { opened: OpenedAlbum } => {
    const conn = connection(user);
    const opened = central.open(ALBUM, conn, user, new Uint8Array(32).fill(key));
    const core = new AlbumSessionCore({ opened, user, handOffIntervalMs: 1000, canResume: true });
    core.started(`${user}:1`);
    return { user, core, connection: conn, opened };
  };
  return { central, ann: open("ann", 1), bob: open("bob", 2), store };
}

let files = 0;
/** A local add: its delta (to spread by hand). */
function addFile(editor: Editor): Uint8Array {
  const n = files++;
  const delta = editor.core.replica.addFile({
    name: `f${n}.jpg`,
    contentKey: n.toString(16).padStart(64, "0"),
    size: 1,
  });
  editor.core.localChange(delta);
  return delta;
}

function resumeOf(actions: readonly SessionAction[]): Extract<SessionAction, { kind: "resume" }> {
  const resume = actions.find((a) => a.kind === "resume");
  assert.ok(resume?.kind === "resume", `no resume among ${actions.map((a) => a.kind).join(",")}`);
  return resume;
}

/** The server serves a resume; the editor's core hears the answer. */
function serve(central: SimCentral, editor: Editor, request: SimRequest): SessionAction[] {
  assert.equal(request.kind, "resume");
  let result: ResumedAlbum;
  try {
    result = central.serve(ALBUM, editor.connection, editor.user, request)!;
  } catch (error) {
    assert.ok(error instanceof AlbumError, String(error));
    return editor.core.resumeFailed(request.id, error);
  }
  return editor.core.resumeDone(request.id, result);
}

function reconnect(editor: Editor): Extract<SessionAction, { kind: "resume" }> {
  editor.connection = connection(editor.user);
  return resumeOf(editor.core.connectionRestored());
}

describe("a resume that races the holder's own changes", () => {
  test("the holder's later change reaches the server first through a peer: it claims again with its counter now and keeps editing", () => {
    const { central, ann, bob, store } = setUp();
    try {
      bob.core.replica.applyRemote(addFile(ann));
      central.stop();
      central.start();
      ann.core.connectionLost();
      bob.core.connectionLost();

      const annClaim = reconnect(ann);
      assert.equal(annClaim.claim.counter, 1);
      // While her claim is on its way, ann edits on; bob gets it over the mesh
      // and his resume reaches the server first.
      bob.core.replica.applyRemote(addFile(ann));
      const bobClaim = reconnect(bob);
      serve(central, bob, bobClaim);
      assert.equal(bob.core.linkUp, true);
      assert.equal(highestCounter(central.copy(ALBUM), ann.core.slot), 2);

      const again = serve(central, ann, annClaim);
      assert.equal(ann.core.state, "open", `ann's session ended: ${ann.core.endReason}`);
      const second = resumeOf(again);
      assert.equal(second.claim.counter, 2);
      serve(central, ann, second);
      assert.equal(ann.core.linkUp, true);
      assert.equal(ann.core.hasUnhanded, false);
      assert.deepEqual(
        listFiles(central.copy(ALBUM))
          .map((f) => f.name)
          .sort(),
        ["f0.jpg", "f1.jpg"],
      );
    } finally {
      central.stop();
      store.close();
    }
  });

  test("a replica behind the server's copy of its slot (not the holder's latest) is refused: the session ends, nothing of it merged", () => {
    const { central, ann, store } = setUp();
    try {
      // An older replica of ann's slot, with her resume key: the album as she opened it.
      const stale: Editor = {
        user: "ann",
        connection: ann.connection,
        core: new AlbumSessionCore({
          opened: ann.opened,
          user: "ann",
          handOffIntervalMs: 1000,
          canResume: true,
        }),
      };
      stale.core.started("ann:2");
      addFile(ann);
      addFile(ann);
      const handOff = ann.core.tick("handOff").find((a) => a.kind === "handOff");
      assert.ok(handOff?.kind === "handOff");
      central.serve(ALBUM, ann.connection, "ann", handOff);
      const handedOff = listFiles(central.copy(ALBUM)).map((f) => f.name);
      assert.equal(handedOff.length, 2);
      central.stop();
      central.start();
      stale.core.connectionLost();
      const claim = reconnect(stale);
      assert.equal(claim.claim.counter, 0);
      // It edits on before the answer (relabelling a used dot), still below the server.
      addFile(stale);
      const actions = serve(central, stale, claim);
      assert.equal(stale.core.state, "ended");
      assert.match(
        stale.core.endReason ?? "",
        /behind the server's copy of slot 1 \(counter 1 < 2\)/,
      );
      assert.ok(!actions.some((a) => a.kind === "resume"), "claimed again");
      assert.deepEqual(
        listFiles(central.copy(ALBUM)).map((f) => f.name),
        handedOff,
      );
    } finally {
      central.stop();
      store.close();
    }
  });
});
