// The chat numbers of a reused slot, on the real EditingSessions and the real
// SQLite store (in process): a holder that leaves cleanly (putAlbum) leaves
// the highest chat number of its slot — its word, or a higher number its chat
// carries, never below its predecessors' — and the slot's next holder is told
// it with getAlbum, also after a restart of the server. Without it a newcomer
// that reaches no peer would number its chat from 1 again and its lines would
// be taken for its predecessor's (docs/sessions.md, "Chat kept by the server").
import { randomBytes } from "node:crypto";
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { silentLogger } from "../../src/common/logger.ts";
import { EditorReplica } from "../../src/client/session/editor-replica.ts";
import { CentralStore } from "../../src/central/central-store.ts";
import { EditingSessions } from "../../src/central/sessions/editing-sessions.ts";
import { createAlbumState, encodeState } from "../../src/crdt/index.ts";
import {
  ChatRecordSchema,
  type ChatRecord,
} from "../../src/gen/albumshare/central/v1/central_pb.ts";
import { create } from "@bufbuild/protobuf";
import { makeTempDir } from "./helpers/central-process.ts";
import { inProcessConnection as connection } from "./helpers/in-process-connection.ts";

const temp = makeTempDir("albumshare-slot-chat-");
after(() => temp.remove());

const key = (): Uint8Array => new Uint8Array(randomBytes(32));

function line(epoch: number, slot: number, seq: number, sender: string): ChatRecord {
  return create(ChatRecordSchema, {
    epoch,
    slot,
    seq,
    sender,
    text: `line ${seq}`,
    sentAtUnixMs: 1n,
  });
}

void test("a reused slot's next holder numbers its chat above every earlier holder's, across a restart", () => {
  const store = CentralStore.open(temp.dir);
  const album = "trip";
  store.insertAlbum(album, "ann", encodeState(createAlbumState("ann")), ["ann"]);
  const start = (): EditingSessions =>
    new EditingSessions({ store, logger: silentLogger(), now: () => 0, sweepIntervalMs: 0 });
  let sessions = start();

  // Everybody becomes a member; the album moves to a new epoch.
  const setup = connection("ann");
  const opened = sessions.open(album, setup, "ann", key());
  const replica = new EditorReplica(opened.replica, { slot: opened.slot, user: "ann" });
  for (const user of ["bob", "cy", "dee"]) replica.addMember(user);
  sessions.put(album, setup, replica.encodedState());

  const ann = connection("ann");
  const annSlot = sessions.open(album, ann, "ann", key());
  assert.equal(annSlot.chatSeq, 0, "a fresh slot starts from nothing");
  const epoch = new EditorReplica(annSlot.replica, { slot: annSlot.slot, user: "ann" }).epoch;

  // bob leaves after three lines of his and saying so.
  const bob = connection("bob");
  const bobSlot = sessions.open(album, bob, "bob", key());
  const slot = bobSlot.slot;
  sessions.put(album, bob, new Uint8Array(), [line(epoch, slot, 3, "bob")], 3);

  // cy gets his slot and is told where bob's chat stopped.
  const cy = connection("cy");
  const cySlot = sessions.open(album, cy, "cy", key());
  assert.equal(cySlot.slot, slot);
  assert.equal(cySlot.chatSeq, 3);

  // cy's final word is lower than a line of his slot his chat carries: the line counts.
  sessions.put(album, cy, new Uint8Array(), [line(epoch, slot, 7, "cy")], 5);

  // dee, after a restart of the server, gets the slot again with 7 (the table is durable).
  sessions.stopAll();
  sessions = start();
  const dee = connection("dee");
  const deeSlot = sessions.open(album, dee, "dee", key());
  assert.equal(deeSlot.slot, slot);
  assert.equal(deeSlot.chatSeq, 7);

  // A holder that states nothing (an older client) does not lower it.
  sessions.put(album, dee, new Uint8Array(), [], 0);
  const bob2 = connection("bob");
  const bobAgain = sessions.open(album, bob2, "bob", key());
  assert.equal(bobAgain.slot, slot);
  assert.equal(bobAgain.chatSeq, 7);

  // A hostile leaver's word is bounded: its successor keeps room to number its lines.
  sessions.put(album, bob2, new Uint8Array(), [], 0xffffffff);
  const cyAgain = sessions.open(album, connection("cy"), "cy", key());
  assert.equal(cyAgain.slot, slot);
  assert.equal(cyAgain.chatSeq, 2 ** 31);
  sessions.stopAll();
  store.close();
});
