// The central server's side of editing sessions, through the real protocol
// against a real server process: slots (reuse only after a clean leave),
// join/leave notifications, hand-offs stored durably, compaction when the
// last editor leaves, rate-once, membership enforcement, and a server killed
// mid-session. Replicas are built with the real CRDT (EditorReplica).
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { ErrorCode } from "../../src/common/album-error.ts";
import { CentralClient, type OpenedAlbum } from "../../src/client/central-client.ts";
import { EditorReplica } from "../../src/client/session/editor-replica.ts";
import { decodeState, listFiles, listMembers } from "../../src/crdt/index.ts";
import { LeaveReason, type Notification } from "../../src/gen/albumshare/central/v1/central_pb.ts";
import { withCode } from "./helpers/album-error-assertions.ts";
import { CentralProcess, makeTempDir } from "./helpers/central-process.ts";

/** A fresh peer public key, as every editor makes one per session. */
// The central server records a peer key as 32 opaque bytes; random bytes make
// one without the cost of key generation.
const freshKey = (): Uint8Array => new Uint8Array(randomBytes(32));

const KEY_A = "a".repeat(64);
const KEY_B = "b".repeat(64);

type NoticeCase = NonNullable<Notification["body"]["case"]>;
type NoticeOf<C extends NoticeCase> = Extract<Notification["body"], { case: C }>["value"];

/** Resolves with the next notification of the given kind. */
function nextNotification<C extends NoticeCase>(
  client: CentralClient,
  kind: C,
): Promise<NoticeOf<C>> {
  return new Promise<NoticeOf<C>>((resolve) => {
    const settle = resolve as (value: unknown) => void;
    const listener = (notification: Notification): void => {
      if (notification.body.case === kind) {
        client.off("notification", listener);
        settle(notification.body.value);
      }
    };
    client.on("notification", listener);
  });
}

const replicaOf = (opened: OpenedAlbum, user: string): EditorReplica =>
  new EditorReplica(opened.replica, { slot: opened.slot, user });

describe("editing sessions on the central server", () => {
  const temp = makeTempDir("albumshare-sessions-");
  let server: CentralProcess;
  const clients: CentralClient[] = [];

  const connectAs = async (user: string): Promise<CentralClient> => {
    const client = await CentralClient.connect({ address: server.address });
    clients.push(client);
    await client.login(user, "password-of-" + user);
    return client;
  };

  before(async () => {
    // A short grace: a lost editor's slot is retired soon after its connection dies.
    server = await CentralProcess.start(temp.dir, 30_000, { args: ["--resume-grace-ms", "300"] });
    const setup = await CentralClient.connect({ address: server.address });
    for (const user of ["alice", "bob", "carol", "dave"]) {
      await setup.register(user, "password-of-" + user);
    }
    setup.close();
  });

  after(async () => {
    for (const client of clients) client.close();
    await server.stop();
    temp.remove();
  });

  test("members get slots, others are told who joined and left, slots reused only after a clean leave", async () => {
    const alice = await connectAs("alice");
    await alice.createAlbum("trip");
    const aliceKey = freshKey();
    const aliceOpen = await alice.getAlbum("trip", aliceKey);
    assert.equal(aliceOpen.album, "trip");
    assert.equal(aliceOpen.sessionToken.byteLength, 16, "a 128-bit session token");
    assert.equal(aliceOpen.slot, 1);
    assert.deepEqual(aliceOpen.editors, []);
    assert.ok(aliceOpen.handOffIntervalMs > 0);
    assert.deepEqual(listMembers(decodeState(aliceOpen.replica)), ["alice"]);
    await alice.announceEditor("trip", "127.0.0.1:5001");

    // A non-member is refused, and so is an unknown album.
    const bob = await connectAs("bob");
    await assert.rejects(
      bob.getAlbum("trip", freshKey()),
      withCode(ErrorCode.PermissionDenied, /member/),
    );
    await assert.rejects(bob.getAlbum("nowhere", freshKey()), withCode(ErrorCode.PermissionDenied));

    // Alice adds bob and carol; the hand-off makes the server know at once.
    const aliceReplica = replicaOf(aliceOpen, "alice");
    aliceReplica.addMember("bob");
    aliceReplica.addMember("carol");
    const handOff = aliceReplica.prepareHandOff();
    await alice.handOff("trip", handOff.delta);
    aliceReplica.acknowledgeHandOff(handOff.receipt);

    const joined = nextNotification(alice, "editorJoined");
    // getAlbum needs a well-formed key, and one not in use in the session.
    await assert.rejects(
      bob.getAlbum("trip", new Uint8Array(0)),
      withCode(ErrorCode.InvalidArgument, /public key/),
    );
    await assert.rejects(
      bob.getAlbum("trip", aliceKey),
      withCode(ErrorCode.InvalidArgument, /already used/),
    );
    const bobKey = freshKey();
    const bobOpen = await bob.getAlbum("trip", bobKey);
    assert.equal(bobOpen.slot, 2);
    assert.equal(bobOpen.highestSlot, 2);
    assert.equal(
      Buffer.from(bobOpen.sessionToken).toString("hex"),
      Buffer.from(aliceOpen.sessionToken).toString("hex"),
    );
    assert.deepEqual(
      bobOpen.editors.map((e) => ({ ...e, publicKey: Buffer.from(e.publicKey).toString("hex") })),
      [
        {
          slot: 1,
          user: "alice",
          address: "127.0.0.1:5001",
          publicKey: Buffer.from(aliceKey).toString("hex"),
        },
      ],
      "the others' keys, as the server recorded them",
    );
    assert.deepEqual(listMembers(decodeState(bobOpen.replica)), ["alice", "bob", "carol"]);
    await bob.announceEditor("trip", "127.0.0.1:5002");
    const joinedNote = await joined;
    assert.deepEqual(
      { slot: joinedNote.editor?.slot, user: joinedNote.editor?.user },
      { slot: 2, user: "bob" },
    );
    assert.ok(Buffer.from(joinedNote.editor!.publicKey).equals(Buffer.from(bobKey)));

    // The same user cannot hold two sessions of one album.
    const bobAgain = await connectAs("bob");
    await assert.rejects(
      bobAgain.getAlbum("trip", freshKey()),
      withCode(ErrorCode.FailedPrecondition, /already has this album open/),
    );

    // Carol's connection dies and she does not resume within the grace
    // period: her slot (3) is retired, not reused.
    const carol = await connectAs("carol");
    const carolOpen = await carol.getAlbum("trip", freshKey());
    assert.equal(carolOpen.slot, 3);
    const lost = nextNotification(alice, "editorLeft");
    carol.close();
    const lostNote = await lost;
    assert.equal(lostNote.slot, 3);
    assert.equal(lostNote.reason, LeaveReason.LOST);

    // Bob leaves cleanly: his slot (2) is the next one handed out; carol's is not.
    const bobReplica = replicaOf(bobOpen, "bob");
    const left = nextNotification(alice, "editorLeft");
    await bob.putAlbum("trip", bobReplica.encodedState());
    assert.equal((await left).reason, LeaveReason.LEFT);
    const carolBack = await connectAs("carol");
    const carolAgain = await carolBack.getAlbum("trip", freshKey());
    assert.equal(carolAgain.slot, 2);
    // Those who left are named (no keys: theirs are forgotten) for the chat they relayed.
    assert.deepEqual(carolAgain.pastEditors.map(({ slot, user }) => `${slot}:${user}`).sort(), [
      "2:bob",
      "3:carol",
    ]);
    assert.ok(carolAgain.editors.every((e) => e.user !== "bob"));
    const bobBack = await bobAgain.getAlbum("trip", freshKey());
    assert.equal(bobBack.slot, 4, "a crashed holder's slot is never reused in the session");

    const listed = await alice.listAlbums();
    assert.equal(listed.find((a) => a.name === "trip")?.editorCount, 3);
  });

  test("the last editor out compacts the album; every handed-off edit survives", async () => {
    const alice = await connectAs("alice");
    await alice.createAlbum("compact-me");
    const opened = await alice.getAlbum("compact-me", freshKey());
    const replica = replicaOf(opened, "alice");
    replica.addFile({ name: "a.jpg", contentKey: KEY_A, size: 10 });
    const first = replica.prepareHandOff();
    await alice.handOff("compact-me", first.delta);
    replica.acknowledgeHandOff(first.receipt);
    replica.addFile({ name: "b.jpg", contentKey: KEY_B, size: 20 });
    await alice.putAlbum("compact-me", replica.encodedState());

    const reopened = await alice.getAlbum("compact-me", freshKey());
    const state = decodeState(reopened.replica);
    assert.equal(state.epoch, decodeState(opened.replica).epoch + 1, "compacted into a new epoch");
    assert.deepEqual(
      listFiles(state).map((f) => f.name),
      ["a.jpg", "b.jpg"],
    );
    assert.equal(state.causal.versionVector.size, 0, "no causal history after compaction");
    assert.equal(reopened.slot, 1, "slots restart in the new epoch");

    // A replica of the previous session can no longer be merged.
    await assert.rejects(
      alice.handOff("compact-me", replica.encodedState()),
      withCode(ErrorCode.FailedPrecondition, /stale replica/),
    );
    await alice.putAlbum(
      "compact-me",
      new EditorReplica(reopened.replica, { slot: 1, user: "alice" }).encodedState(),
    );
  });

  test("ratings are recorded once per user and file, across sessions and reconnections", async () => {
    const alice = await connectAs("alice");
    await alice.createAlbum("rated");
    let opened = await alice.getAlbum("rated", freshKey());
    let replica = replicaOf(opened, "alice");
    replica.addFile({ name: "a.jpg", contentKey: KEY_A, size: 10 });
    const fileId = replica.file("a.jpg").fileId;
    assert.deepEqual(opened.ratedFileIds, []);
    await alice.recordRating("rated", fileId, 4);
    replica.rateFile("a.jpg", 4);
    await assert.rejects(
      alice.recordRating("rated", fileId, 4),
      withCode(ErrorCode.AlreadyExists, /already rated/),
    );
    await assert.rejects(
      alice.recordRating("rated", "not-a-file-id", 4),
      withCode(ErrorCode.InvalidArgument),
    );
    await alice.putAlbum("rated", replica.encodedState());

    // A new connection and a new session: the record is still there.
    alice.close();
    const again = await connectAs("alice");
    opened = await again.getAlbum("rated", freshKey());
    assert.deepEqual(opened.ratedFileIds, [fileId]);
    replica = replicaOf(opened, "alice");
    assert.equal(replica.file("a.jpg").average, 4);
    await assert.rejects(again.recordRating("rated", fileId, 4), withCode(ErrorCode.AlreadyExists));
    await again.putAlbum("rated", replica.encodedState());
    // Outside a session there is nothing to rate in.
    await assert.rejects(
      again.recordRating("rated", fileId, 4),
      withCode(ErrorCode.FailedPrecondition),
    );
  });

  test("a removed member's session is ended (once the removal settled) and they can no longer open the album", async () => {
    const alice = await connectAs("alice");
    const dave = await connectAs("dave");
    await alice.createAlbum("club");
    const aliceOpen = await alice.getAlbum("club", freshKey());
    const aliceReplica = replicaOf(aliceOpen, "alice");
    aliceReplica.addMember("dave");
    let handOff = aliceReplica.prepareHandOff();
    await alice.handOff("club", handOff.delta);
    aliceReplica.acknowledgeHandOff(handOff.receipt);
    await alice.announceEditor("club", "127.0.0.1:6001");

    const daveOpen = await dave.getAlbum("club", freshKey());
    assert.equal(daveOpen.slot, 2);
    const ended = nextNotification(dave, "sessionEnded");
    const left = nextNotification(alice, "editorLeft");
    aliceReplica.removeMember("dave");
    handOff = aliceReplica.prepareHandOff();
    await alice.handOff("club", handOff.delta);
    assert.match((await ended).reason, /removed/);
    const leftNote = await left;
    assert.equal(leftNote.user, "dave");
    assert.equal(leftNote.reason, LeaveReason.REMOVED);
    await assert.rejects(
      dave.handOff("club", daveOpen.replica),
      withCode(ErrorCode.FailedPrecondition, /not in an editing session/),
    );
    await assert.rejects(dave.getAlbum("club", freshKey()), withCode(ErrorCode.PermissionDenied));
    assert.deepEqual(
      (await dave.listAlbums()).map((a) => a.name).filter((n) => n === "club"),
      [],
    );
    await alice.putAlbum("club", aliceReplica.encodedState());
  });

  test("garbage replicas are refused without harm", async () => {
    const alice = await connectAs("alice");
    await alice.createAlbum("robust");
    const opened = await alice.getAlbum("robust", freshKey());
    await assert.rejects(
      alice.handOff("robust", new Uint8Array([1, 2, 3, 4, 5])),
      withCode(ErrorCode.InvalidArgument),
    );
    await assert.rejects(
      alice.announceEditor("robust", "x".repeat(400)),
      withCode(ErrorCode.InvalidArgument),
    );
    await alice.putAlbum("robust", replicaOf(opened, "alice").encodedState());
    const reopened = await alice.getAlbum("robust", freshKey());
    assert.deepEqual(listMembers(decodeState(reopened.replica)), ["alice"]);
    await alice.putAlbum("robust", replicaOf(reopened, "alice").encodedState());
  });
});

describe("a central server killed mid-session", () => {
  const temp = makeTempDir("albumshare-sessions-crash-");

  after(() => temp.remove());

  test("keeps every acknowledged hand-off and the epoch; opening again instead of resuming gives a fresh slot", async () => {
    let server = await CentralProcess.start(temp.dir);
    const alice = await CentralClient.connect({ address: server.address });
    await alice.register("alice", "password-of-alice");
    await alice.login("alice", "password-of-alice");
    await alice.createAlbum("crashy");
    const opened = await alice.getAlbum("crashy", freshKey());
    const replica = replicaOf(opened, "alice");
    replica.addFile({ name: "kept.jpg", contentKey: KEY_A, size: 1 });
    const handOff = replica.prepareHandOff();
    await alice.handOff("crashy", handOff.delta);

    const lost = once(alice, "reconnecting");
    await server.kill9();
    await lost;
    alice.close();
    server = await CentralProcess.start(temp.dir);
    try {
      const back = await CentralClient.connect({ address: server.address });
      await back.login("alice", "password-of-alice");
      const reopened = await back.getAlbum("crashy", freshKey());
      const state = decodeState(reopened.replica);
      assert.deepEqual(
        listFiles(state).map((f) => f.name),
        ["kept.jpg"],
      );
      // The session survived the restart (its slot table is durable): same
      // epoch; the old slot was held for a resume, so a getAlbum retires it.
      assert.equal(state.epoch, decodeState(opened.replica).epoch);
      assert.notEqual(reopened.slot, opened.slot);
      back.close();
    } finally {
      await server.stop();
    }
  });
});
