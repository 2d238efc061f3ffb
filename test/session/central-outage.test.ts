// Editing that outlives the central server, end to end with real processes
// (central server, a data server, client shells in --json mode): (1) kill -9
// of the central server right after two unsaved edits, then a restart: both
// edits kept, both shells still editing, chat still flowing, nothing typed
// lost; (2) the central server down longer than its idle timeout while the
// editors edit and chat peer to peer, then back; (3) one editor's connection
// to the central server cut (a proxy of the test's own; its peer links stay
// up) and restored; (4) a restart while a newcomer is joining.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "../support/eventually.ts";
import { TcpProxy } from "../support/tcp-proxy.ts";
import { LocalSystem, type ShellClient, type ShellEvent } from "./helpers/local-system.ts";
import { converged, filesOf, names } from "./helpers/replica-checks.ts";

const IDLE_TIMEOUT_MS = 2000;

describe("editing through central-server outages, end to end", () => {
  let system: LocalSystem;
  let proxy: TcpProxy;
  let alice: ShellClient;
  let bob: ShellClient;
  let carol: ShellClient;
  let fileNumber = 0;

  const makeFile = (name: string): string => {
    const path = join(system.root, `${fileNumber++}-${name}`);
    writeFileSync(path, randomBytes(2000));
    return path;
  };

  /** Waits until the central server acknowledged every change of these shells. */
  const handedOff = async (...clients: ShellClient[]): Promise<void> => {
    for (const client of clients) {
      await eventually(
        async () => {
          const data = (await client.ok("listReplica")).data as { unhandedChanges: boolean };
          return !data.unhandedChanges;
        },
        `${client.name}'s changes acknowledged by the central server`,
        { pollMs: 100 },
      );
    }
  };

  const count = (client: ShellClient, match: (e: ShellEvent) => boolean): number =>
    client.events.filter(match).length;

  const chatSeen = (client: ShellClient, text: string): Promise<ShellEvent> =>
    client.waitEvent((e) => e.event === "chat" && e.text === text, `chat '${text}'`);

  /** Opens `album` with alice (creator), then bob (and carol) added and editing. */
  const openTogether = async (album: string, editors: ShellClient[]): Promise<void> => {
    await alice.ok(`createAlbum ${album}`);
    await alice.ok(`getAlbum ${album}`);
    for (const editor of editors) {
      await alice.ok(`addUser ${editor.name}`);
      await editor.ok(`getAlbum ${album}`);
      await alice.waitEvent((e) => e.event === "joined" && e.user === editor.name, "joined");
    }
  };

  const leaveAll = async (...clients: ShellClient[]): Promise<void> => {
    for (const client of clients) await client.ok("putAlbum");
  };

  before(async () => {
    system = await LocalSystem.start(1, {
      centralArgs: ["--idle-timeout-ms", String(IDLE_TIMEOUT_MS), "--hand-off-interval-ms", "200"],
    });
    proxy = await TcpProxy.start(Number(system.central.split(":")[1]));
    // Alice reaches the central server through the proxy (test 3 cuts it).
    alice = system.client("alice", proxy.address);
    bob = system.client("bob");
    carol = system.client("carol");
    for (const client of [alice, bob, carol]) {
      await client.ok(`register ${client.name} password-of-${client.name}`);
      await client.ok(`login ${client.name} password-of-${client.name}`);
    }
  });

  after(async () => {
    await system.stop();
    await proxy.stop();
  });

  test("(1) kill -9 of the central server after two unsaved edits: both kept, editing and chat go on", async () => {
    await openTogether("outage", [bob]);
    for (let i = 0; i < 6; i++)
      await alice.ok(`addFile ${makeFile(`saved_a${i}.jpg`)} saved_a${i}.jpg`);
    await converged([alice, bob], "six files at both", (files) => files.length === 6);
    await handedOff(alice, bob);

    // Two edits, acknowledged to the person and at the other editor, not handed off yet.
    await alice.ok(`addFile ${makeFile("unsaved_a.jpg")} unsaved_a.jpg`);
    await bob.ok("removeFile saved_a0.jpg");
    await converged(
      [alice, bob],
      "both edits at both editors",
      (files) =>
        files.some((f) => f.name === "unsaved_a.jpg") &&
        !files.some((f) => f.name === "saved_a0.jpg"),
    );
    await system.killCentral();
    for (const client of [alice, bob]) {
      await client.waitEvent((e) => e.event === "reconnecting", "reconnecting");
    }
    // While it is down: chat flows peer to peer; a command that needs the
    // server fails clearly instead of vanishing.
    await alice.ok("anyone there?");
    await chatSeen(bob, "anyone there?");
    await system.restartCentral();
    for (const client of [alice, bob]) {
      await client.waitEvent((e) => e.event === "restored", "restored");
    }
    await handedOff(alice, bob);
    // Still editing (no "session ended"), chat still flowing.
    await bob.ok("back again");
    await chatSeen(alice, "back again");
    await alice.ok(`addFile ${makeFile("after.jpg")} after.jpg`);
    await converged([alice, bob], "after.jpg at both", (files) =>
      files.some((f) => f.name === "after.jpg"),
    );
    for (const client of [alice, bob]) {
      assert.equal(
        count(client, (e) => e.event === "sessionEnded"),
        0,
      );
      assert.equal(
        count(client, (e) => e.event === "reconnecting"),
        1,
        "told once",
      );
      assert.equal(
        count(client, (e) => e.event === "restored"),
        1,
        "told once",
      );
    }
    await handedOff(alice, bob);
    await leaveAll(alice, bob);
    // Reopened later: both edits are there.
    await alice.ok("getAlbum outage");
    const files = names(await filesOf(alice));
    assert.ok(files.includes("unsaved_a.jpg"), "alice's unsaved add kept");
    assert.ok(!files.includes("saved_a0.jpg"), "bob's unsaved remove kept");
    assert.ok(files.includes("after.jpg"));
    // The chat is kept by the central server for whoever opens the album
    // later: shown again (once) on opening it.
    for (const text of ["anyone there?", "back again"]) {
      assert.equal(
        count(alice, (e) => e.event === "chat" && e.text === text),
        2,
        text,
      );
    }
    await alice.ok("putAlbum");
  });

  test("(2) the central server down longer than its idle timeout: editing and chat peer to peer, then back", async () => {
    await openTogether("long-outage", [bob]);
    await system.killCentral();
    await alice.ok(`addFile ${makeFile("during.jpg")} during.jpg`);
    await bob.ok("chat while the server is gone");
    await chatSeen(alice, "chat while the server is gone");
    await converged([alice, bob], "during.jpg at both", (files) =>
      files.some((f) => f.name === "during.jpg"),
    );
    // A rating needs the server (rate-once): it waits a bounded time, then
    // says so; nothing is dropped silently. That wait also keeps the server
    // down for longer than its idle timeout.
    const rating = await bob.run("rateFile during.jpg 4");
    assert.ok(!rating.ok && rating.code === "unavailable", JSON.stringify(rating));
    assert.match(rating.error, /unreachable/);
    // Handing the album back needs the server too: refused, the album stays open.
    const handBack = await alice.run("putAlbum");
    assert.ok(!handBack.ok && handBack.code === "unavailable", JSON.stringify(handBack));
    assert.match(handBack.error, /stays open/);
    await alice.ok("listFiles");
    await system.restartCentral();
    await eventually(
      () => [alice, bob].every((c) => count(c, (e) => e.event === "restored") === 2),
      "both back",
    );
    await handedOff(alice, bob);
    await alice.ok("server is back");
    await chatSeen(bob, "server is back");
    await bob.ok("rateFile during.jpg 4");
    await handedOff(bob);
    await leaveAll(alice, bob);
    await bob.ok("getAlbum long-outage");
    assert.deepEqual(await filesOf(bob), [{ name: "during.jpg", average: 4, ratings: 1 }]);
    await bob.ok("putAlbum");
  });

  test("(3) one editor's connection to the central server cut and restored; its peer links stay", async () => {
    await openTogether("cut", [bob]);
    const restoredBefore = count(alice, (e) => e.event === "restored");
    const leftBefore = count(bob, (e) => e.event === "left");
    proxy.cut();
    await eventually(
      () => count(alice, (e) => e.event === "reconnecting") === restoredBefore + 1,
      "alice reconnecting",
    );
    await alice.ok(`addFile ${makeFile("cut.jpg")} cut.jpg`);
    await alice.ok("cut off from the server");
    await chatSeen(bob, "cut off from the server");
    await converged([alice, bob], "cut.jpg at both", (files) =>
      files.some((f) => f.name === "cut.jpg"),
    );
    proxy.restore();
    await eventually(
      () => count(alice, (e) => e.event === "restored") === restoredBefore + 1,
      "alice back",
    );
    await handedOff(alice, bob);
    assert.equal(
      count(bob, (e) => e.event === "left"),
      leftBefore,
      "bob never saw alice leave",
    );
    await leaveAll(alice, bob);
    await bob.ok("getAlbum cut");
    assert.deepEqual(names(await filesOf(bob)), ["cut.jpg"]);
    await bob.ok("putAlbum");
  });

  test("(4) a restart while a newcomer is joining", async () => {
    await openTogether("newcomer", [bob]);
    await alice.ok("addUser carol");
    await alice.ok("before the newcomer");
    await handedOff(alice, bob);
    // Carol is logged in (not editing); she notices the crash like everyone —
    // unless she was already reconnecting when it came (on a loaded machine a
    // late keep-alive gets an idle connection cut), which is told only once.
    const carolLost = count(carol, (e) => e.event === "reconnecting");
    await system.killCentral();
    const lastLinkEvent = (): string | undefined =>
      carol.events.filter((e) => e.event === "reconnecting" || e.event === "restored").at(-1)
        ?.event;
    await eventually(
      () =>
        count(carol, (e) => e.event === "reconnecting") > carolLost ||
        lastLinkEvent() === "reconnecting",
      "carol reconnecting",
    );
    // Carol asks to join while the server is down; it comes back meanwhile.
    const joining = carol.run("getAlbum newcomer");
    await system.restartCentral();
    const joined = await joining;
    assert.ok(joined.ok, `carol joined: ${JSON.stringify(joined)}`);
    const slot = (joined.data as { slot: number }).slot;
    assert.ok(slot > 2, "a fresh slot, never one of the editors who may resume");
    await alice.waitEvent((e) => e.event === "joined" && e.user === "carol", "carol joined");
    await carol.ok("hello, I am new");
    await chatSeen(alice, "hello, I am new");
    await chatSeen(bob, "hello, I am new");
    await chatSeen(carol, "before the newcomer");
    await carol.ok(`addFile ${makeFile("newcomer.jpg")} newcomer.jpg`);
    await converged([alice, bob, carol], "newcomer.jpg everywhere", (files) =>
      files.some((f) => f.name === "newcomer.jpg"),
    );
    await handedOff(alice, bob, carol);
    await leaveAll(alice, bob, carol);
  });
});
