// Resuming against the real central server process, through the client
// library: resumable logins (issued, used, revoked, kept across kill -9), the
// client reconnecting by itself (one 'reconnecting' and one 'restored' per
// outage, commands waiting or failing with unavailable), an editor
// reclaiming its own slot — and nobody else's — after a cut connection and
// after a kill -9 of the server (same epoch, its unacknowledged changes kept),
// slots of editors that stay away retired after the grace period, chat kept by
// the server exactly once in a causal order, and removals enforced only on
// the merged state.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { create } from "@bufbuild/protobuf";
import { ErrorCode } from "../../src/common/album-error.ts";
import {
  CentralClient,
  type KeptChatMessage,
  type OpenedAlbum,
} from "../../src/client/central-client.ts";
import { EditorReplica } from "../../src/client/session/editor-replica.ts";
import { decodeState, highestCounter, listFiles, listMembers } from "../../src/crdt/index.ts";
import {
  LeaveReason,
  LoginRequestSchema,
  type Notification,
} from "../../src/gen/albumshare/central/v1/central_pb.ts";
import { eventually } from "../support/eventually.ts";
import { TcpProxy } from "../support/tcp-proxy.ts";
import { withCode } from "./helpers/album-error-assertions.ts";
import { CentralProcess, makeTempDir } from "./helpers/central-process.ts";

/** A fresh peer public key, as every editor makes one per session. */
// The central server records a peer key as 32 opaque bytes; random bytes make
// one without the cost of key generation.
const freshKey = (): Uint8Array => new Uint8Array(randomBytes(32));

const KEY_A = "a".repeat(64);
const KEY_B = "b".repeat(64);
const KEY_C = "c".repeat(64);
// Long enough that a loaded machine's logins and reconnects during the
// cut-connection test fit inside it (1.5 s was not, once under full load).
const GRACE_MS = 6000;
const SERVER_ARGS = ["--resume-grace-ms", String(GRACE_MS), "--hand-off-interval-ms", "100"];

const replicaOf = (opened: OpenedAlbum, user: string): EditorReplica =>
  new EditorReplica(opened.replica, { slot: opened.slot, user });

function notices(client: CentralClient): Notification[] {
  const seen: Notification[] = [];
  client.on("notification", (n) => seen.push(n));
  return seen;
}

/** Hands off the replica's unacknowledged changes. */
async function handOff(client: CentralClient, album: string, replica: EditorReplica) {
  const prepared = replica.prepareHandOff();
  await client.handOff(album, prepared.delta);
  replica.acknowledgeHandOff(prepared.receipt);
}

/** The claim an editor makes to take its slot back (what session-resume.ts sends). */
function claimOf(album: string, opened: OpenedAlbum, replica: EditorReplica, address = "") {
  return {
    album,
    epoch: replica.epoch,
    slot: opened.slot,
    resumeKey: opened.resumeKey,
    counter: highestCounter(replica.state, opened.slot),
    delta: replica.prepareHandOff().delta,
    chat: [],
    address,
  };
}

function chat(epoch: number, slot: number, seq: number, sender: string): KeptChatMessage {
  return { epoch, slot, seq, sender, text: `${sender} #${seq}`, sentAtUnixMs: 1_700_000_000_000 };
}

describe("resuming against the central server", () => {
  const temp = makeTempDir("albumshare-resume-");
  let server: CentralProcess;
  const clients: CentralClient[] = [];

  const connectAs = async (
    user: string,
    options: { address?: string; reconnect?: boolean } = {},
  ): Promise<CentralClient> => {
    const client = await CentralClient.connect({
      address: options.address ?? server.address,
      reconnect: options.reconnect ?? true,
      backoff: { baseMs: 20, capMs: 200 },
    });
    clients.push(client);
    await client.login(user, "password-of-" + user);
    return client;
  };

  before(async () => {
    server = await CentralProcess.start(temp.dir, 30_000, { args: SERVER_ARGS });
    const setup = await CentralClient.connect({ address: server.address });
    for (const user of ["alice", "bob", "carol"]) await setup.register(user, "password-of-" + user);
    setup.close();
  });

  after(async () => {
    for (const client of clients) client.close();
    await server.stop();
    temp.remove();
  });

  test("a login issues an expiring token that logs in again, until logout revokes it", async () => {
    const first = await CentralClient.connect({ address: server.address });
    clients.push(first);
    const login = (value: Parameters<typeof create<typeof LoginRequestSchema>>[1]) =>
      first.request("login", { case: "login", value: create(LoginRequestSchema, value) });
    const reply = await login({ name: "alice", password: "password-of-alice" });
    assert.equal(reply.sessionToken.byteLength, 32);
    const ttl = Number(reply.sessionTokenExpiresUnixMs) - Date.now();
    assert.ok(ttl > 23 * 3600_000 && ttl <= 24 * 3600_000, `token lives a day, not ${ttl} ms`);

    const second = await CentralClient.connect({ address: server.address });
    clients.push(second);
    const byToken = (token: Uint8Array) =>
      second.request("login", {
        case: "login",
        value: create(LoginRequestSchema, { sessionToken: token }),
      });
    assert.equal((await byToken(reply.sessionToken)).name, "alice");
    const forged = Uint8Array.from(reply.sessionToken, (b, i) => (i === 0 ? b ^ 1 : b));
    const third = await CentralClient.connect({ address: server.address });
    clients.push(third);
    await assert.rejects(
      third.request("login", {
        case: "login",
        value: create(LoginRequestSchema, { sessionToken: forged }),
      }),
      withCode(ErrorCode.Unauthenticated, /expired or was revoked/),
    );
    await assert.rejects(
      third.request("login", {
        case: "login",
        value: create(LoginRequestSchema, { sessionToken: new Uint8Array(5) }),
      }),
      withCode(ErrorCode.Unauthenticated, /malformed/),
    );
    await assert.rejects(
      third.request("login", {
        case: "login",
        value: create(LoginRequestSchema, { name: "bob", sessionToken: reply.sessionToken }),
      }),
      withCode(ErrorCode.InvalidArgument, /either/),
    );

    // Resuming needs a login, and a claim that is well formed.
    const anonymous = await CentralClient.connect({ address: server.address });
    clients.push(anonymous);
    const claim = {
      album: "nowhere",
      epoch: 1,
      slot: 1,
      resumeKey: new Uint8Array(16),
      counter: 0,
      delta: new Uint8Array(),
      chat: [],
      address: "",
    };
    await assert.rejects(anonymous.resumeAlbum(claim), withCode(ErrorCode.Unauthenticated));
    await assert.rejects(
      second.resumeAlbum({ ...claim, album: "../bad name" }),
      withCode(ErrorCode.InvalidArgument),
    );
    await assert.rejects(
      second.resumeAlbum({ ...claim, address: "x".repeat(400) }),
      withCode(ErrorCode.InvalidArgument),
    );
    await assert.rejects(
      second.resumeAlbum(claim),
      withCode(ErrorCode.FailedPrecondition, /stale/),
    );

    await first.logout();
    await assert.rejects(
      third.request("login", {
        case: "login",
        value: create(LoginRequestSchema, { sessionToken: reply.sessionToken }),
      }),
      withCode(ErrorCode.Unauthenticated),
    );
  });

  test("a cut connection: the editor reclaims exactly its own slot; newcomers never get it", async () => {
    const proxy = await TcpProxy.start(server.port);
    try {
      const alice = await connectAs("alice", { address: proxy.address });
      const bob = await connectAs("bob");
      await alice.createAlbum("cut");
      const aliceOpen = await alice.getAlbum("cut", freshKey());
      assert.equal(aliceOpen.resumeKey.byteLength, 16);
      assert.equal(aliceOpen.resumeGraceMs, GRACE_MS);
      const aliceReplica = replicaOf(aliceOpen, "alice");
      aliceReplica.addMember("bob");
      aliceReplica.addMember("carol");
      aliceReplica.addFile({ name: "acked.jpg", contentKey: KEY_A, size: 1 });
      await handOff(alice, "cut", aliceReplica);
      await alice.announceEditor("cut", "127.0.0.1:7101");
      const bobOpen = await bob.getAlbum("cut", freshKey());
      const bobNotices = notices(bob);

      // Alice's link to the server is cut; she edits on (not acknowledged).
      const reconnecting = once(alice, "reconnecting");
      proxy.cut();
      await reconnecting;
      aliceReplica.addFile({ name: "while-away.jpg", contentKey: KEY_B, size: 2 });

      // Her slot is held: a newcomer gets a fresh one, and nobody else may claim hers.
      const carol = await connectAs("carol");
      const carolOpen = await carol.getAlbum("cut", freshKey());
      assert.equal(carolOpen.slot, 3);
      await assert.rejects(
        bob.resumeAlbum({ ...claimOf("cut", aliceOpen, aliceReplica), chat: [] }),
        withCode(ErrorCode.PermissionDenied, /not yours/),
      );
      await assert.rejects(
        bob.resumeAlbum({
          ...claimOf("cut", bobOpen, replicaOf(bobOpen, "bob")),
          slot: aliceOpen.slot,
        }),
        withCode(ErrorCode.PermissionDenied, /not yours/),
      );
      // A command issued while cut waits for the link (bounded), then runs.
      const restored = once(alice, "restored");
      const listed = alice.listAlbums();
      proxy.restore();
      await restored;
      assert.ok((await listed).some((a) => a.name === "cut"));
      // A replica behind its own slot would reuse dots: refused (nothing
      // merged, the slot still away), with the server's counter.
      const behind = await alice.resumeAlbum({
        ...claimOf("cut", aliceOpen, aliceReplica),
        counter: 0,
      });
      assert.equal(behind.outcome, "counterBehind");
      // (What alice handed off before the cut; her replica holds more.)
      assert.ok(behind.knownCounter > 0);
      assert.ok(behind.knownCounter <= highestCounter(aliceReplica.state, aliceOpen.slot));
      assert.match(behind.reason, /behind/);
      const claim = claimOf("cut", aliceOpen, aliceReplica, "127.0.0.1:7102");
      const resumed = await alice.resumeAlbum(claim);
      assert.equal(resumed.outcome, "resumed");
      assert.deepEqual(resumed.editors, [], "bob and carol announced no endpoint");
      await eventually(
        () =>
          bobNotices.some((n) => n.body.case === "editorJoined" && n.body.value.editor?.slot === 1),
        "bob told that alice is back (at her new address)",
      );
      assert.ok(!bobNotices.some((n) => n.body.case === "editorLeft"), "alice never left");
      // She edits on in the same slot; everything is at the server.
      aliceReplica.addFile({ name: "after.jpg", contentKey: KEY_C, size: 3 });
      await handOff(alice, "cut", aliceReplica);
      await alice.putAlbum("cut", aliceReplica.prepareHandOff().delta);
      await bob.putAlbum("cut", new Uint8Array());
      await carol.putAlbum("cut", new Uint8Array());
      const reopened = decodeState((await alice.getAlbum("cut", freshKey())).replica);
      assert.deepEqual(
        listFiles(reopened).map((f) => f.name),
        ["acked.jpg", "after.jpg", "while-away.jpg"],
      );
      await alice.putAlbum("cut", new Uint8Array());
    } finally {
      await proxy.stop();
    }
  });

  test("an editor away past the grace period loses its slot, but its late changes are merged", async () => {
    const proxy = await TcpProxy.start(server.port);
    try {
      const alice = await connectAs("alice", { address: proxy.address });
      const bob = await connectAs("bob");
      await alice.createAlbum("late");
      const aliceOpen = await alice.getAlbum("late", freshKey());
      const aliceReplica = replicaOf(aliceOpen, "alice");
      aliceReplica.addMember("bob");
      await handOff(alice, "late", aliceReplica);
      await bob.getAlbum("late", freshKey());
      const left = new Promise<Notification>((resolve) =>
        bob.on("notification", (n) => n.body.case === "editorLeft" && resolve(n)),
      );
      proxy.cut();
      aliceReplica.addFile({ name: "late.jpg", contentKey: KEY_A, size: 1 });
      const leftNote = await left;
      assert.equal(
        leftNote.body.case === "editorLeft" && leftNote.body.value.reason,
        LeaveReason.LOST,
      );
      proxy.restore();
      await once(alice, "restored");
      const result = await alice.resumeAlbum(claimOf("late", aliceOpen, aliceReplica));
      assert.equal(result.outcome, "handedOff");
      assert.match(result.reason, /given up while you were away/);
      await assert.rejects(
        alice.handOff("late", new Uint8Array()),
        withCode(ErrorCode.FailedPrecondition),
      );
      await bob.putAlbum("late", new Uint8Array());
      const reopened = decodeState((await bob.getAlbum("late", freshKey())).replica);
      assert.deepEqual(
        listFiles(reopened).map((f) => f.name),
        ["late.jpg"],
      );
      await bob.putAlbum("late", new Uint8Array());
    } finally {
      await proxy.stop();
    }
  });

  test("chat handed off by several editors is kept once each, in a causal order, for later sessions", async () => {
    const alice = await connectAs("alice");
    const bob = await connectAs("bob");
    await alice.createAlbum("talk");
    const aliceOpen = await alice.getAlbum("talk", freshKey());
    assert.deepEqual(aliceOpen.chatHistory, []);
    const aliceReplica = replicaOf(aliceOpen, "alice");
    aliceReplica.addMember("bob");
    await handOff(alice, "talk", aliceReplica);
    const bobOpen = await bob.getAlbum("talk", freshKey());
    const epoch = aliceReplica.epoch;
    const a1 = chat(epoch, aliceOpen.slot, 1, "alice");
    const b1 = chat(epoch, bobOpen.slot, 1, "bob"); // a reply to a1
    const a2 = chat(epoch, aliceOpen.slot, 2, "alice");
    // Bob delivered a1 then b1 and hands both off; alice, later, all three.
    await bob.handOff("talk", new Uint8Array(), [a1, b1]);
    await alice.handOff("talk", new Uint8Array(), [a1, b1, a2]);
    // A malformed batch is refused whole.
    await assert.rejects(
      alice.handOff("talk", new Uint8Array(), [
        chat(epoch, 1, 3, "alice"),
        { ...a2, sender: "not a name!" },
      ]),
      withCode(ErrorCode.InvalidArgument, /sender/),
    );
    await assert.rejects(
      alice.handOff("talk", new Uint8Array(), [chat(epoch + 7, 1, 9, "alice")]),
      withCode(ErrorCode.InvalidArgument, /session/),
    );
    await bob.putAlbum("talk", new Uint8Array(), [a1, b1, a2]);
    await alice.putAlbum("talk", aliceReplica.prepareHandOff().delta);
    const later = await alice.getAlbum("talk", freshKey());
    assert.deepEqual(
      later.chatHistory.map((m) => m.text),
      ["alice #1", "bob #1", "alice #2"],
    );
    await alice.putAlbum("talk", new Uint8Array());
  });

  test("two editors removing each other: nobody is ended, as the merged album keeps both", async () => {
    const alice = await connectAs("alice");
    const carol = await connectAs("carol");
    await alice.createAlbum("feud");
    const aliceOpen = await alice.getAlbum("feud", freshKey());
    const aliceReplica = replicaOf(aliceOpen, "alice");
    aliceReplica.addMember("carol");
    await handOff(alice, "feud", aliceReplica);
    const carolOpen = await carol.getAlbum("feud", freshKey());
    const carolReplica = replicaOf(carolOpen, "carol");
    const aliceNotices = notices(alice);
    const carolNotices = notices(carol);
    // Concurrently: neither saw the other's removal.
    aliceReplica.removeMember("carol");
    carolReplica.removeMember("alice");
    await handOff(alice, "feud", aliceReplica);
    await handOff(carol, "feud", carolReplica);
    // Well past the settle time (two hand-off periods of 100 ms), both still edit.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const seen of [aliceNotices, carolNotices]) {
      assert.ok(!seen.some((n) => n.body.case === "sessionEnded" || n.body.case === "editorLeft"));
    }
    await handOff(alice, "feud", aliceReplica);
    await carol.putAlbum("feud", carolReplica.prepareHandOff().delta);
    await alice.putAlbum("feud", aliceReplica.prepareHandOff().delta);
    assert.deepEqual(listMembers(decodeState((await alice.getAlbum("feud", freshKey())).replica)), [
      "alice",
      "carol",
    ]);
    await alice.putAlbum("feud", new Uint8Array());
  });
});

describe("a central server killed and restarted mid-session", () => {
  const temp = makeTempDir("albumshare-resume-restart-");
  let server: CentralProcess;

  after(async () => {
    await server.stop();
    temp.remove();
  });

  test("the login and the session come back: same epoch, same slots, nothing handed off lost", async () => {
    server = await CentralProcess.start(temp.dir, 30_000, { args: SERVER_ARGS });
    const port = server.port;
    const connect = async (user: string) => {
      const client = await CentralClient.connect({
        address: server.address,
        backoff: { baseMs: 20, capMs: 200 },
        reconnectWaitMs: 300,
      });
      await client.register(user, "password-of-" + user);
      await client.login(user, "password-of-" + user);
      return client;
    };
    const alice = await connect("alice");
    const bob = await connect("bob");
    await alice.createAlbum("restart");
    const aliceOpen = await alice.getAlbum("restart", freshKey());
    const aliceReplica = replicaOf(aliceOpen, "alice");
    aliceReplica.addMember("bob");
    aliceReplica.addFile({ name: "saved.jpg", contentKey: KEY_A, size: 1 });
    await handOff(alice, "restart", aliceReplica);
    const bobOpen = await bob.getAlbum("restart", freshKey());
    const bobReplica = replicaOf(bobOpen, "bob");
    // Both edit; neither change is handed off before the crash.
    aliceReplica.addFile({ name: "unsaved-a.jpg", contentKey: KEY_B, size: 2 });
    bobReplica.applyRemote(aliceReplica.prepareHandOff().delta);
    bobReplica.removeFile("saved.jpg");

    const events = { alice: [] as string[], bob: [] as string[] };
    for (const [name, client] of [
      ["alice", alice],
      ["bob", bob],
    ] as const) {
      client.on("reconnecting", () => events[name].push("reconnecting"));
      client.on("restored", () => events[name].push("restored"));
    }
    await server.kill9();
    await eventually(
      () => events.alice.length === 1 && events.bob.length === 1,
      "both reconnecting",
    );
    // A command while the server is down waits a bounded time, then fails clearly.
    await assert.rejects(bob.listAlbums(), withCode(ErrorCode.Unavailable, /unreachable/));
    server = await CentralProcess.start(temp.dir, 30_000, { port, args: SERVER_ARGS });
    await eventually(
      () =>
        events.alice.join() === "reconnecting,restored" &&
        events.bob.join() === "reconnecting,restored",
      "both back, logged in by token: one event each way",
    );
    const aliceBack = await alice.resumeAlbum(claimOf("restart", aliceOpen, aliceReplica));
    const bobBack = await bob.resumeAlbum(claimOf("restart", bobOpen, bobReplica));
    assert.equal(aliceBack.outcome, "resumed");
    assert.equal(bobBack.outcome, "resumed");
    // Same slots, same epoch: they edit on, and a newcomer gets a fresh slot.
    aliceReplica.addFile({ name: "after-restart.jpg", contentKey: KEY_C, size: 3 });
    await handOff(alice, "restart", aliceReplica);
    await alice.putAlbum("restart", aliceReplica.prepareHandOff().delta);
    await bob.putAlbum("restart", bobReplica.prepareHandOff().delta);
    const reopened = await alice.getAlbum("restart", freshKey());
    const state = decodeState(reopened.replica);
    assert.equal(state.epoch, aliceReplica.epoch + 1, "compacted only when both left");
    assert.deepEqual(
      listFiles(state).map((f) => f.name),
      ["after-restart.jpg", "unsaved-a.jpg"],
    );
    await alice.putAlbum("restart", new Uint8Array());
    alice.close();
    bob.close();
  });
});
