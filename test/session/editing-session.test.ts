// Editing sessions end to end, every part a real process: the central server,
// three data servers and client shells talking ZeroMQ to each other on
// 127.0.0.1. Three editors edit concurrently and converge; files added by one
// are downloaded and verified by the others; a fourth editor joining mid-way
// sees the state and the chat history; kill -9 of an editor leaves the others
// working; a removed member is refused; rate-once holds across sessions and a
// crashed client; and after everyone left, reopening shows every edit.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "../support/eventually.ts";
import { LocalSystem, type ShellClient } from "./helpers/local-system.ts";
import { converged, filesOf, names } from "./helpers/replica-checks.ts";

describe("editing sessions, end to end", () => {
  let system: LocalSystem;
  let alice: ShellClient;
  let bob: ShellClient;
  let carol: ShellClient;
  const content = new Map<string, Buffer>();

  const makeFile = (name: string, size: number): string => {
    const bytes = randomBytes(size);
    const path = join(system.root, name);
    writeFileSync(path, bytes);
    content.set(name, bytes);
    return path;
  };

  before(async () => {
    system = await LocalSystem.start(3, { centralArgs: ["--resume-grace-ms", "1000"] });
    alice = system.client("alice");
    bob = system.client("bob");
    carol = system.client("carol");
    const dave = system.client("dave-setup");
    for (const [client, user] of [
      [alice, "alice"],
      [bob, "bob"],
      [carol, "carol"],
      [dave, "dave"],
    ] as const) {
      await client.ok(`register ${user} password-of-${user}`);
      if (client !== dave) await client.ok(`login ${user} password-of-${user}`);
    }
    await dave.close();
  });

  after(async () => {
    await system.stop();
  });

  test("three editors edit concurrently and converge; files verify everywhere", async () => {
    await alice.ok("createAlbum trip");
    await alice.ok("getAlbum trip");
    await alice.ok("addUser bob");
    await alice.ok("addUser carol");
    assert.match(await alice.fails("addUser nobody-by-that-name", "not_found"), /does not exist/);
    await bob.ok("getAlbum trip");
    await carol.ok("getAlbum trip");
    await alice.waitEvent((e) => e.event === "joined" && e.user === "carol", "carol joined");

    const paths = {
      alice: makeFile("beach.jpg", 300_000),
      bob: makeFile("dunes.png", 2_000_000),
      carol: makeFile("sunset.mov", 5_000),
    };
    // Concurrent edits from the three editors.
    await Promise.all([
      alice.ok(`addFile ${paths.alice}`),
      bob.ok(`addFile ${paths.bob}`),
      carol.ok(`addFile ${paths.carol}`),
    ]);
    await converged([alice, bob, carol], "three files everywhere", (files) => files.length === 3);
    await Promise.all([
      alice.ok("rateFile dunes.png 5"),
      bob.ok("rateFile dunes.png 3"),
      carol.ok("rateFile beach.jpg 4"),
      bob.ok("addUser dave"),
      carol.ok("removeFile sunset.mov"),
    ]);
    const files = await converged(
      [alice, bob, carol],
      "ratings and the removal everywhere",
      (listed) => listed.length === 2 && listed.every((f) => f.ratings > 0),
    );
    assert.deepEqual(names(files), ["beach.jpg", "dunes.png"]);
    assert.deepEqual(
      files.find((f) => f.name === "dunes.png"),
      { name: "dunes.png", average: 4, ratings: 2 },
    );

    // Content keys never show in the shell's output.
    const output = [alice, bob, carol].flatMap((c) => c.lines).join("\n");
    assert.doesNotMatch(output, /[0-9a-f]{64}/);

    // Files added by one are downloaded and verified by the others.
    await carol.ok("downloadFile dunes.png");
    await bob.ok(`downloadFile beach.jpg ${join(system.root, "beach-copy.jpg")}`);
    assert.deepEqual(readFileSync(join(system.root, "beach-copy.jpg")), content.get("beach.jpg"));
    assert.match(await alice.fails("downloadFile no-such.jpg", "not_found"), /no-such\.jpg/);
    assert.match(await alice.fails("rateFile beach.jpg 6", "invalid_argument"), /0 to 5/);
  });

  test("chat is delivered to every editor in causal order, own messages included", async () => {
    await alice.ok("hello from alice");
    await bob.waitEvent(
      (e) => e.event === "chat" && e.text === "hello from alice",
      "alice's hello",
    );
    await bob.ok("hi alice, bob here");
    await carol.waitEvent(
      (e) => e.event === "chat" && e.text === "hi alice, bob here",
      "bob's reply",
    );
    for (const client of [alice, bob, carol]) {
      await client.waitEvent((e) => e.event === "chat" && e.text === "hi alice, bob here", "reply");
      const texts = client.chats().map((c) => c.text);
      assert.ok(
        texts.indexOf("hello from alice") < texts.indexOf("hi alice, bob here"),
        `${client.name} saw the reply before the message it answers`,
      );
      assert.equal(texts.filter((t) => t === "hello from alice").length, 1, "exactly once");
    }
    assert.deepEqual(
      alice.chats().find((c) => c.text === "hello from alice"),
      { from: "alice", text: "hello from alice" },
    );
  });

  test("a fourth editor joining mid-session sees the current state and the chat history", async () => {
    const dave = system.client("dave");
    await dave.ok("login dave password-of-dave");
    await dave.ok("getAlbum trip");
    assert.deepEqual(names(await filesOf(dave)), ["beach.jpg", "dunes.png"]);
    await dave.waitEvent((e) => e.event === "chat" && e.text === "hi alice, bob here", "history");
    const texts = dave.chats().map((c) => c.text);
    assert.deepEqual(texts.slice(0, 2), ["hello from alice", "hi alice, bob here"]);
    await dave.ok("dave says hi");
    await alice.waitEvent((e) => e.event === "chat" && e.text === "dave says hi", "dave's chat");

    // A removed member's session ends at once; they can no longer open the album.
    await alice.ok("removeUser dave");
    const ended = await dave.waitEvent((e) => e.event === "sessionEnded", "dave's session ended");
    assert.match(String(ended.reason), /removed/);
    await alice.waitEvent(
      (e) => e.event === "left" && e.user === "dave" && e.reason === "removed",
      "dave left (removed)",
    );
    assert.match(await dave.fails("getAlbum trip", "permission_denied"), /member/);
    assert.match(await dave.fails("listFiles", "failed_precondition"), /not in an editing session/);
    await dave.close();
  });

  test("kill -9 of an editor leaves the others working; rate-once survives the crash", async () => {
    // Carol rates, then crashes before any clean leave.
    await carol.ok("rateFile dunes.png 1");
    // Once the peers have the rating, it no longer depends on carol.
    await converged([alice, bob], "carol's rating reached the others", (files) =>
      files.some((f) => f.name === "dunes.png" && f.ratings === 3),
    );
    await carol.kill9();
    await alice.waitEvent(
      (e) => e.event === "left" && e.user === "carol" && e.reason === "lost",
      "carol lost",
    );
    // The others keep editing and chatting.
    await alice.ok(`addFile ${makeFile("after-crash.jpg", 10_000)}`);
    await converged([alice, bob], "alice and bob agree after the crash", (files) =>
      files.some((f) => f.name === "after-crash.jpg"),
    );
    await bob.ok("still here");
    await alice.waitEvent((e) => e.event === "chat" && e.text === "still here", "bob's chat");

    // Carol comes back: her rating from before the crash still counts once.
    const carolAgain = system.client("carol-again");
    await carolAgain.ok("login carol password-of-carol");
    await carolAgain.ok("getAlbum trip");
    assert.match(await carolAgain.fails("rateFile dunes.png 5", "already_exists"), /already rated/);
    await carolAgain.ok("putAlbum");

    // Bob rated dunes.png in this session; a new session does not let him again.
    await bob.fails("rateFile dunes.png 2", "already_exists");
    await bob.ok("putAlbum");
    await bob.ok("getAlbum trip");
    await bob.fails("rateFile dunes.png 2", "already_exists");
  });

  test("after everyone leaves, reopening the album shows every acknowledged edit", async () => {
    const before = await converged([alice, bob], "final agreement", () => true);
    await bob.ok("quit");
    await alice.ok("putAlbum");
    await alice.fails("listFiles", "failed_precondition");
    await alice.ok("getAlbum trip");
    const reopened = await filesOf(alice);
    assert.deepEqual(reopened, before);
    assert.deepEqual(names(reopened), ["after-crash.jpg", "beach.jpg", "dunes.png"]);
    const dunes = reopened.find((f) => f.name === "dunes.png")!;
    assert.equal(dunes.ratings, 3, "alice 5, bob 3 and carol 1 (before her crash)");
    await alice.ok("logout");
  });
});

describe("every editor of a session crashing at once", () => {
  let system: LocalSystem;

  before(async () => {
    system = await LocalSystem.start(1);
  });

  after(async () => {
    await system.stop();
  });

  test("loses nothing the central server acknowledged: edits do not depend on putAlbum", async () => {
    const alice = system.client("alice");
    const bob = system.client("bob");
    await alice.ok("register alice password-of-alice");
    await bob.ok("register bob password-of-bob");
    await alice.ok("login alice password-of-alice");
    await bob.ok("login bob password-of-bob");
    await alice.ok("createAlbum crash-all");
    await alice.ok("getAlbum crash-all");
    await alice.ok("addUser bob");
    await bob.ok("getAlbum crash-all");
    const photo = join(system.root, "kept.jpg");
    writeFileSync(photo, randomBytes(50_000));
    await alice.ok(`addFile ${photo}`);
    await converged([alice, bob], "bob has alice's file", (files) => files.length === 1);
    await bob.ok("rateFile kept.jpg 2");
    await converged([alice, bob], "alice has bob's rating", (files) => files[0]?.ratings === 1);
    // Wait for the periodic hand-offs (no putAlbum), then crash both editors.
    for (const client of [alice, bob]) {
      await eventually(
        async () => {
          const data = (await client.ok("listReplica")).data as { unhandedChanges: boolean };
          return !data.unhandedChanges;
        },
        `${client.name}'s changes acknowledged by the central server`,
        { pollMs: 100 },
      );
    }
    await alice.kill9();
    await bob.kill9();

    const reopen = system.client("alice-again");
    await reopen.ok("login alice password-of-alice");
    await reopen.ok("getAlbum crash-all");
    assert.deepEqual(await filesOf(reopen), [{ name: "kept.jpg", average: 2, ratings: 1 }]);
    const members = (await reopen.ok("listReplica")).data as { members: string[] };
    assert.deepEqual(members.members, ["alice", "bob"]);
    await reopen.close();
  });
});
