// AlbumSession with an in-memory central server and content store, and the
// real peer engine over ZeroMQ on 127.0.0.1: opening (state and chat history
// from the peers), notifications, the album commands and their errors, rate
// once, immediate and periodic hand-offs (never two in flight), the session
// ending (removed, connection lost), and close() (idempotent).
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AlbumSession,
  type AlbumSessionOptions,
  type EditorLeftView,
  type SessionChatMessage,
  type SessionEditorView,
  type SessionEnd,
} from "../../src/client/session/album-session.ts";
import { ErrorCode } from "../../src/common/album-error.ts";
import { listMembers, listFiles } from "../../src/crdt/index.ts";
import {
  FakeCentralServer,
  MemoryContentStore,
  type FakeConnection,
} from "./fixtures/fake-central.ts";
import { eventually } from "../support/eventually.ts";

const temp = mkdtempSync(join(tmpdir(), "albumshare-session-"));
const open: AlbumSession[] = [];

after(async () => {
  await Promise.all(open.map((session) => session.close().catch(() => {})));
  rmSync(temp, { recursive: true, force: true });
});

interface Editor {
  session: AlbumSession;
  connection: FakeConnection;
  chat: SessionChatMessage[];
  joined: SessionEditorView[];
  left: EditorLeftView[];
  ended: SessionEnd[];
}

async function openEditor(
  server: FakeCentralServer,
  user: string,
  store: MemoryContentStore,
  extra: Partial<AlbumSessionOptions> = {},
): Promise<Editor> {
  const connection = server.connect(user);
  const editor: Omit<Editor, "session"> = { connection, chat: [], joined: [], left: [], ended: [] };
  const session = await AlbumSession.open({
    central: connection,
    album: server.album,
    user,
    peer: { bindHost: "127.0.0.1", bindPort: 0 },
    transfer: store,
    peerTuning: { antiEntropyIntervalMs: 100, repairDelayMs: 50, initialSyncRetryMs: 300 },
    events: {
      chat: (message) => editor.chat.push(message),
      editorJoined: (joined) => editor.joined.push(joined),
      editorLeft: (left) => editor.left.push(left),
      ended: (end) => editor.ended.push(end),
    },
    ...extra,
  });
  open.push(session);
  return { ...editor, session };
}

/** alice opens "trip", adds bob, and bob opens it too (one fake server and content store). */
async function aliceThenBob() {
  const server = new FakeCentralServer("trip", "alice");
  server.users.add("bob");
  const store = new MemoryContentStore();
  const alice = await openEditor(server, "alice", store);
  await alice.session.addUser("bob");
  const bob = await openEditor(server, "bob", store);
  return { server, store, alice, bob };
}

function localFile(name: string, content: string): string {
  const path = join(temp, name);
  writeFileSync(path, content);
  return path;
}

const codeOf = (code: ErrorCode) => (error: unknown) => (error as { code?: unknown }).code === code;

describe("AlbumSession", () => {
  test("a newcomer gets the newest state and the chat history from the editors there", async () => {
    const server = new FakeCentralServer("trip", "alice");
    server.users.add("bob");
    const store = new MemoryContentStore();
    const alice = await openEditor(server, "alice", store);
    assert.equal(alice.session.slot, 1);
    assert.deepEqual(alice.session.editors(), []);
    await alice.session.addUser("bob");
    // Not handed off (the period is long): bob can only learn of it from alice.
    await alice.session.addFile(localFile("beach.jpg", "sand"));
    await alice.session.chat("first message");
    assert.equal(server.state.files.size, 0, "the file was not handed off");

    const bob = await openEditor(server, "bob", store);
    assert.deepEqual(bob.session.editors(), [{ slot: 1, user: "alice" }]);
    assert.deepEqual(
      bob.session.listFiles().map((f) => f.name),
      ["beach.jpg"],
    );
    assert.deepEqual(
      bob.chat.map((m) => [m.from, m.text]),
      [["alice", "first message"]],
    );
    await eventually(() => alice.joined.length === 1, "alice is told bob joined");
    assert.deepEqual(alice.joined, [{ slot: 2, user: "bob" }]);

    await bob.session.chat("hello alice");
    await eventually(() => alice.chat.length === 2, "alice gets bob's message");
    assert.deepEqual(alice.chat[1], { ...bob.chat[1], slot: 2 });
    assert.equal(bob.chat[1]!.from, "bob", "own messages are delivered too");

    await bob.session.close();
    await eventually(() => alice.left.length === 1, "alice is told bob left");
    assert.deepEqual(alice.left, [{ slot: 2, user: "bob", reason: "left" }]);
    assert.deepEqual(alice.session.editors(), []);
    assert.deepEqual(
      listFiles(server.state).map((f) => f.displayName),
      ["beach.jpg"],
    );
    await alice.session.close();
  });

  test("edits spread to the other editor; downloads are verified and keep the display name", async () => {
    const { alice, bob } = await aliceThenBob();
    const added = await bob.session.addFile(localFile("original.txt", "content"), "notes.txt");
    assert.deepEqual(added, { name: "notes.txt", size: 7, alreadyStored: false });
    await eventually(() => alice.session.listFiles().length === 1, "alice sees bob's file");
    const downloaded = await alice.session.downloadFile("notes.txt", temp);
    assert.equal(downloaded.path, join(temp, "notes.txt"));
    assert.equal(readFileSync(downloaded.path, "utf8"), "content");
    await alice.session.removeFile("notes.txt");
    await eventually(() => bob.session.listFiles().length === 0, "bob sees the removal");
    await assert.rejects(alice.session.removeFile("notes.txt"), codeOf(ErrorCode.NotFound));
    await Promise.all([alice.session.close(), bob.session.close()]);
  });

  test("ratings: range checked locally, recorded centrally first, once ever", async () => {
    const server = new FakeCentralServer("trip", "alice");
    const store = new MemoryContentStore();
    const alice = await openEditor(server, "alice", store);
    await alice.session.addFile(localFile("a.jpg", "a"));
    for (const stars of [6, -1, 2.5, Number.NaN]) {
      await assert.rejects(alice.session.rateFile("a.jpg", stars), {
        code: ErrorCode.InvalidArgument,
        message: "rating must be a whole number from 0 to 5",
      });
    }
    await assert.rejects(alice.session.rateFile("nope.jpg", 3), codeOf(ErrorCode.NotFound));
    const rated = await alice.session.rateFile("a.jpg", 4);
    assert.deepEqual(rated, { name: "a.jpg", stars: 4, average: 4, ratings: 1 });
    await assert.rejects(alice.session.rateFile("a.jpg", 5), {
      code: ErrorCode.AlreadyExists,
      message: "you have already rated 'a.jpg'",
    });
    await alice.session.close();

    // A later session of the same user: the record comes with getAlbum.
    const again = await openEditor(server, "alice", store);
    await assert.rejects(again.session.rateFile("a.jpg", 1), codeOf(ErrorCode.AlreadyExists));
    assert.deepEqual(
      again.session.listFiles().map((f) => [f.name, f.average, f.ratings]),
      [["a.jpg", 4, 1]],
    );
    await again.session.close();
  });

  test("members: addUser asks the central server and hands off at once", async () => {
    const server = new FakeCentralServer("trip", "alice");
    server.users.add("carol");
    const alice = await openEditor(server, "alice", new MemoryContentStore());
    await assert.rejects(alice.session.addUser("nobody"), {
      code: ErrorCode.NotFound,
      message: "user 'nobody' does not exist",
    });
    const change = await alice.session.addUser("carol");
    assert.equal(change.handedOff, true);
    assert.deepEqual(listMembers(server.state), ["alice", "carol"], "the server knows already");
    await assert.rejects(alice.session.addUser("carol"), codeOf(ErrorCode.AlreadyExists));
    await alice.session.removeUser("carol");
    assert.deepEqual(listMembers(server.state), ["alice"]);
    await assert.rejects(alice.session.removeUser("alice"), codeOf(ErrorCode.FailedPrecondition));
    await alice.session.close();
  });

  test("a dead data server: one clear Unavailable line without the content key, nothing added", async () => {
    const server = new FakeCentralServer("trip", "alice");
    const store = new MemoryContentStore();
    const alice = await openEditor(server, "alice", store);
    store.unreachable = true;
    await assert.rejects(alice.session.addFile(localFile("x.jpg", "x")), (error: Error) => {
      assert.equal((error as { code?: unknown }).code, ErrorCode.Unavailable);
      assert.match(error.message, /^data server unreachable: /);
      assert.doesNotMatch(error.message, /[0-9a-f]{12}/, error.message);
      return true;
    });
    assert.deepEqual(alice.session.listFiles(), []);
    await assert.rejects(
      alice.session.addFile(join(temp, "does-not-exist.jpg")),
      codeOf(ErrorCode.NotFound),
    );
    assert.doesNotMatch(alice.session.listReplica(), /[0-9a-f]{64}/);
    await alice.session.close();
  });

  test("periodic hand-offs carry the changes, never two in flight; a failed one is retried", async () => {
    const server = new FakeCentralServer("trip", "alice", 10);
    server.handOffDelayMs = 30;
    server.failHandOffs = true;
    const alice = await openEditor(server, "alice", new MemoryContentStore());
    await alice.session.addFile(localFile("h1.jpg", "1"));
    await eventually(() => server.refusedHandOffs >= 2, "two refused hand-offs");
    assert.equal(server.state.files.size, 0);
    server.failHandOffs = false;
    await eventually(() => server.state.files.size === 1, "the retried hand-off lands");
    await alice.session.addFile(localFile("h2.jpg", "2"));
    await eventually(() => server.state.files.size === 2, "the next change is handed off");
    assert.equal(server.maxHandOffsInFlight, 1);
    await alice.session.close();
  });

  test("the server ends the session: an event, commands refused, close() does nothing", async () => {
    const { server, alice, bob } = await aliceThenBob();
    server.endSession("bob", "bob was removed from the members of 'trip'");
    await eventually(() => bob.ended.length === 1, "bob's session ends");
    assert.deepEqual(bob.ended, [{ reason: "bob was removed from the members of 'trip'" }]);
    assert.equal(bob.session.isOpen, false);
    await assert.rejects(bob.session.chat("still here?"), codeOf(ErrorCode.FailedPrecondition));
    assert.throws(() => bob.session.listFiles(), codeOf(ErrorCode.FailedPrecondition));
    const puts = server.putAlbums;
    await bob.session.close();
    await bob.session.close();
    assert.equal(server.putAlbums, puts, "no putAlbum after the end");
    await eventually(() => alice.left.length === 1, "alice is told");
    assert.equal(alice.left[0]!.reason, "removed");
    await alice.session.close();
  });

  test("losing the central connection ends the session", async () => {
    const server = new FakeCentralServer("trip", "alice");
    const alice = await openEditor(server, "alice", new MemoryContentStore());
    alice.connection.drop();
    await eventually(() => alice.ended.length === 1, "the session ends");
    assert.match(alice.ended[0]!.reason, /lost the connection to the central server/);
    await alice.session.close();
  });

  test("close() twice hands the replica back once", async () => {
    const server = new FakeCentralServer("trip", "alice");
    const alice = await openEditor(server, "alice", new MemoryContentStore());
    await alice.session.addFile(localFile("c.jpg", "c"));
    await Promise.all([alice.session.close(), alice.session.close()]);
    await alice.session.close();
    assert.equal(server.putAlbums, 1);
    assert.equal(server.state.files.size, 1);
    assert.equal(server.editors.size, 0);
  });

  test("getAlbum of an unknown album fails with the server's error, nothing left open", async () => {
    const server = new FakeCentralServer("trip", "alice");
    const connection = server.connect("alice");
    await assert.rejects(
      AlbumSession.open({
        central: connection,
        album: "nope",
        user: "alice",
        peer: { bindHost: "127.0.0.1", bindPort: 0 },
        transfer: new MemoryContentStore(),
      }),
      codeOf(ErrorCode.NotFound),
    );
    assert.equal(connection.listenerCount("notification"), 0);
  });
});
