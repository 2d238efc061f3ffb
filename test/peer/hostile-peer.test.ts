// The editing mesh against a hostile peer, every part a real process: the
// central server, a data server, two editor shells (alice and bob), and a
// hostile peer that is a separate process using zeromq directly (see
// fixtures/hostile-peer.ts). It forges as an admitted member (a rating
// aggregate, chat under alice's name, an event of a slot nobody holds, an
// unsolicited sync reply), then, removed, tries every way in (no keys,
// self-made keys, another session's keys, its own keys of a moment ago); and
// another admitted member floods alice with maximum-size and oversized
// messages. The editors' replicas, chat and the central server's copy show
// nothing of it, and editing and chat go on.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { DEFAULT_MAX_MESSAGE_BYTES } from "../../src/peer/peer-mesh.ts";
import { decodeDelta, decodeState, encodeState, mergeInto } from "../../src/crdt/index.ts";
import { eventually } from "../support/eventually.ts";
import { LocalSystem, type ShellClient } from "../session/helpers/local-system.ts";

/** The stated bound on a flooded editor's peak memory (see docs/peer.md). */
const FLOODED_EDITOR_PEAK_RSS_MIB = 256;

interface ListedFile {
  name: string;
  average: number | null;
  ratings: number;
}

/** The hostile process: steps as JSON lines on stdout; a line on stdin starts the next step. */
class HostilePeer {
  readonly child: ChildProcess;
  readonly #steps: Record<string, unknown>[] = [];
  #waiters: (() => void)[] = [];
  stderr = "";

  constructor(settings: Record<string, unknown>) {
    this.child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        fileURLToPath(new URL("./fixtures/hostile-peer.ts", import.meta.url)),
        JSON.stringify(settings),
      ],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    this.child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      this.#steps.push(JSON.parse(line) as Record<string, unknown>);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  async step(name: string): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const found = this.#steps.find((s) => s.step === name);
      if (found) return found;
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(`the hostile peer never reached '${name}'\n${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 500);
      });
    }
  }

  go(): void {
    this.child.stdin!.write("go\n");
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

const filesOf = async (client: ShellClient): Promise<ListedFile[]> =>
  ((await client.ok("listFiles")).data as { files: ListedFile[] }).files;

const replicaOf = async (client: ShellClient): Promise<string> =>
  (await client.ok("listReplica")).text;

const chatLog = (client: ShellClient): string =>
  JSON.stringify(client.chats().map(({ from, text }) => [from, text]));

/** Peak and current resident memory of a process, from /proc (MiB). */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]);
  return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
}

describe("the editing mesh against a hostile peer", () => {
  let system: LocalSystem;
  let alice: ShellClient;
  let bob: ShellClient;
  const hostiles: HostilePeer[] = [];

  /**
   * The album as the central server stores it (its replica with the hand-off
   * log merged in, as the server reads it back), encoded and hashed: the same
   * changes handed off twice leave it the same.
   */
  const centralCopy = (): string => {
    const db = new Database(join(system.root, "central", "central.sqlite3"), { readonly: true });
    try {
      const album = db.prepare("SELECT replica FROM albums WHERE name = 'trip'").get() as {
        replica: Buffer;
      };
      const state = decodeState(album.replica);
      const log = db
        .prepare("SELECT delta FROM album_log WHERE album = 'trip' ORDER BY id")
        .all() as { delta: Buffer }[];
      for (const { delta } of log) mergeInto(state, decodeDelta(delta));
      return createHash("sha256").update(encodeState(state)).digest("hex");
    } finally {
      db.close();
    }
  };

  const snapshot = async (): Promise<string[]> => [
    await replicaOf(alice),
    await replicaOf(bob),
    chatLog(alice),
    chatLog(bob),
    centralCopy(),
  ];

  /** A chat line from one to the other arrives: the mesh still works. */
  const chatFlows = async (from: ShellClient, to: ShellClient, text: string): Promise<void> => {
    await from.ok(text);
    await to.waitEvent((e) => e.event === "chat" && e.text === text, `'${text}' at ${to.name}`);
  };

  before(async () => {
    system = await LocalSystem.start(1);
    alice = system.client("alice");
    bob = system.client("bob");
    const setup = system.client("setup");
    for (const user of ["mallory", "trudy"]) {
      await setup.ok(`register ${user} password-of-${user}`);
    }
    await setup.ok("login mallory password-of-mallory");
    await setup.ok("createAlbum mallory-own");
    await setup.close();
    for (const [client, user] of [
      [alice, "alice"],
      [bob, "bob"],
    ] as const) {
      await client.ok(`register ${user} password-of-${user}`);
      await client.ok(`login ${user} password-of-${user}`);
    }
    await alice.ok("createAlbum trip");
    await alice.ok("getAlbum trip");
    for (const user of ["bob", "mallory", "trudy"]) await alice.ok(`addUser ${user}`);
    const photo = join(system.root, "photo.jpg");
    writeFileSync(photo, randomBytes(20_000));
    await alice.ok(`addFile ${photo}`);
    await bob.ok("getAlbum trip");
    await bob.ok("rateFile photo.jpg 4");
    await eventually(
      async () => (await filesOf(alice))[0]?.ratings === 1,
      "bob's rating at alice",
      { pollMs: 100 },
    );
  });

  after(async () => {
    for (const hostile of hostiles) hostile.kill();
    await system.stop();
  });

  test("a member's forged rating aggregate, chat under another's name and invented events are refused", async () => {
    const mallory = new HostilePeer({
      scenario: "member",
      central: system.central,
      user: "mallory",
      password: "password-of-mallory",
      album: "trip",
      otherAlbum: "mallory-own",
      impersonate: "alice",
      fileId: /photo\.jpg\s+(?:id\s+)?([0-9a-f]{16})/.exec(await replicaOf(alice))![1],
    });
    hostiles.push(mallory);
    await mallory.step("joined");
    for (const editor of [alice, bob]) {
      await editor.waitEvent((e) => e.event === "joined" && e.user === "mallory", "mallory joined");
    }
    mallory.go();
    const { handOffError } = await mallory.step("forged");
    assert.match(
      String(handOffError),
      // 100 forged, plus bob's real one once his own hand-off reached the server.
      /hand-off refused: file \w+ would count 10[01] ratings, but 1 users rated it/,
    );
    // Alice's next messages reach bob (the forged one did not take their numbers).
    await chatFlows(alice, bob, "first real line");
    await chatFlows(alice, bob, "second real line");
    await chatFlows(bob, alice, "bob answers");
    for (const editor of [alice, bob]) {
      const lines = editor.chats();
      assert.ok(
        lines.every((line) => !/forged|unsolicited/.test(line.text)),
        `${editor.name} shows no forged chat: ${JSON.stringify(lines)}`,
      );
      assert.deepEqual(
        lines.filter((line) => line.from === "alice").map((line) => line.text),
        ["first real line", "second real line"],
      );
      const [photo] = await filesOf(editor);
      assert.deepEqual(
        { ratings: photo!.ratings, average: photo!.average },
        { ratings: 1, average: 4 },
        `${editor.name} lists the true count and average`,
      );
      const replica = await replicaOf(editor);
      assert.doesNotMatch(replica, /\beve\b/, "no member added by a slot nobody holds");
    }
    assert.equal(await replicaOf(alice), await replicaOf(bob));
  });

  test("no keys, self-made keys, another session's keys and a removed member's keys are refused", async () => {
    const mallory = hostiles[0]!;
    await alice.ok("removeUser mallory");
    await bob.waitEvent(
      (e) => e.event === "left" && e.user === "mallory" && e.reason === "removed",
      "mallory removed",
    );
    // Let the removal's hand-off and the peers' resync settle, then take the snapshot.
    await eventually(async () => (await replicaOf(alice)) === (await replicaOf(bob)), "in sync");
    await chatFlows(alice, bob, "before the attacks");
    const before = await snapshot();
    mallory.go();
    const { results } = (await mallory.step("attacked")) as {
      results: Record<string, Record<string, number>>;
    };
    for (const editor of ["alice", "bob"]) {
      const refusedByZap = (name: string): void =>
        assert.ok(
          (results[`${name}->${editor}`]?.["handshake:error:auth"] ?? 0) > 0,
          `${name} -> ${editor}: ${JSON.stringify(results)}`,
        );
      refusedByZap("self-made keys");
      refusedByZap("another session's keys");
      refusedByZap("removed member's keys");
      assert.equal(results[`no keys->${editor}`]?.handshake, undefined, "no keys: no handshake");
      assert.ok(
        (results[`old connection->${editor}`]?.disconnect ?? 0) > 0,
        `the removed member's open connection to ${editor} was cut: ${JSON.stringify(results)}`,
      );
    }
    // The editors closed their connections to it; none came back.
    assert.ok((results["our endpoint"]?.disconnect ?? 0) >= 2, JSON.stringify(results));
    assert.deepEqual(
      await snapshot(),
      before,
      "replicas, chat logs and the central copy unchanged",
    );
    await chatFlows(bob, alice, "after the attacks");
    await chatFlows(alice, bob, "still here");
    await alice.ok("rateFile photo.jpg 2");
    await eventually(async () => (await filesOf(bob))[0]?.ratings === 2, "alice's rating at bob", {
      pollMs: 100,
    });
  });

  test("a flood of maximum-size and oversized messages delays no one's chat and stays within its memory bound", async () => {
    const trudy = new HostilePeer({
      scenario: "flood",
      central: system.central,
      user: "trudy",
      password: "password-of-trudy",
      album: "trip",
      victim: "alice",
      count: 24,
      oversized: 4,
      maxBytes: DEFAULT_MAX_MESSAGE_BYTES,
    });
    hostiles.push(trudy);
    await trudy.step("joined");
    await alice.waitEvent((e) => e.event === "joined" && e.user === "trudy", "trudy joined");
    const pid = alice.child.pid!;
    trudy.go();
    // Bob chats all along; every line reaches alice while she is flooded.
    let flooded = false;
    void trudy.step("flooded").then(() => (flooded = true));
    const sent: string[] = [];
    for (let i = 0; i < 100 && (!flooded || sent.length < 5); i++) {
      const text = `during the flood ${i}`;
      await bob.ok(text);
      sent.push(text);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { sent: floodSent } = await trudy.step("flooded");
    assert.ok(Number(floodSent) >= 24, `the flood was sent (${String(floodSent)} messages)`);
    await eventually(
      () => sent.every((text) => alice.chats().some((line) => line.text === text)),
      "every line bob sent during the flood at alice",
    );
    const memory = memoryOf(pid);
    assert.ok(
      memory.peak < FLOODED_EDITOR_PEAK_RSS_MIB,
      `alice's peak RSS ${memory.peak.toFixed(0)} MiB, above ${FLOODED_EDITOR_PEAK_RSS_MIB} MiB`,
    );
    console.error(
      `flooded editor: peak RSS ${memory.peak.toFixed(0)} MiB, now ${memory.rss.toFixed(0)} MiB, ${String(floodSent)} messages`,
    );
    // Her central connection survived: requests work and her session is still open.
    await alice.ok("listAlbums");
    assert.ok(!alice.events.some((e) => e.event === "sessionEnded"), "alice's session goes on");
    await chatFlows(alice, bob, "the flood is over");
  });
});
