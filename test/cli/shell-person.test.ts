// The shell as a person meets it (scripted mode, real processes): `~` in
// local paths, local destination problems named as such, the overwrite rule,
// mistyped commands kept out of the chat, one JSON object per chat line,
// listFiles as a table, pseudo-files and FIFOs, several files at once and
// --all, and a client pointed at the cluster port.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "../support/eventually.ts";
import { seededRandom } from "../support/seeded-random.ts";
import { CLUSTER_TOKEN, LocalSystem, type ShellClient } from "../session/helpers/local-system.ts";
import { createHash, randomBytes } from "node:crypto";
import { GrpcConnection } from "../../src/common/grpc/client-calls.ts";
import { ClusterRingSource } from "../../src/client/data-transfer/cluster-ring-source.ts";
import { DataService } from "../../src/gen/albumshare/data/v1/data_pb.ts";
import { CTRL_C, PtyShell } from "./helpers/pty-shell.ts";
import { runClientScript } from "../support/client-script.ts";

/** The files another editor's additions announced to this client, in order. */
function addedSeenBy(client: ShellClient): string[] {
  return client.events
    .filter((e) => e.event === "filesChanged")
    .flatMap((e) => e.changes as { kind: string; name: string }[])
    .filter((change) => change.kind === "added")
    .map((change) => change.name);
}

describe("the shell as a person meets it", () => {
  let system: LocalSystem;
  let alice: ShellClient;
  let bob: ShellClient;
  let home: string;
  const beach = Buffer.from("the beach photo\n".repeat(1000));

  before(async () => {
    // A short stall timeout: the resume test's cut-off upload ends soon.
    system = await LocalSystem.start(1, { dataArgs: ["--stall-timeout", "3"] });
    home = join(system.root, "home");
    mkdirSync(join(home, "Pictures"), { recursive: true });
    writeFileSync(join(home, "Pictures", "beach.jpg"), beach);
    alice = system.client("alice", system.central, { HOME: home });
    bob = system.client("bob", system.central, { HOME: home });
    await alice.ok("register alice password-of-alice");
    await bob.ok("register bob password-of-bob");
    await alice.ok("login alice password-of-alice");
    await bob.ok("login bob password-of-bob");
    await alice.ok("createAlbum trip");
    await alice.ok("getAlbum trip");
    await alice.ok("addUser bob");
    await bob.ok("getAlbum trip");
  });

  after(async () => {
    await system.stop();
  });

  test("1: `~/` in a local path is the home folder", async () => {
    const added = await alice.ok("addFile ~/Pictures/beach.jpg");
    assert.deepEqual(added.data, { name: "beach.jpg", size: beach.length, alreadyStored: false });
  });

  test("2: a local destination problem names the local path, not the data servers", async () => {
    const missing = await alice.fails("downloadFile beach.jpg no-such-folder/x.jpg", "not_found");
    assert.match(missing, /no such local folder/);
    assert.ok(missing.includes(join(alice.cwd, "no-such-folder")), missing);
    assert.doesNotMatch(missing, /data server/);
    const proc = await alice.fails("downloadFile beach.jpg /proc/version", "already_exists");
    assert.match(proc, /\/proc\/version already exists/);
    const forced = await alice.fails(
      "downloadFile beach.jpg /proc/version --force",
      "failed_precondition",
    );
    assert.match(forced, /cannot write the local file \/proc\/version/);
    assert.doesNotMatch(forced, /data server/);
  });

  test("3: a download never replaces a file unless --force; a folder means into it", async () => {
    const first = await bob.ok("downloadFile beach.jpg");
    const path = join(bob.cwd, "beach.jpg");
    assert.equal((first.data as { path: string }).path, path);
    writeFileSync(path, "my own notes");
    const refused = await bob.fails("downloadFile beach.jpg", "already_exists");
    assert.match(refused, /already exists; add --force/);
    assert.equal(readFileSync(path, "utf8"), "my own notes");
    await bob.ok("downloadFile beach.jpg --force");
    assert.deepEqual(readFileSync(path), beach);
    mkdirSync(join(bob.cwd, "album"));
    const into = await bob.ok("downloadFile beach.jpg album");
    assert.equal((into.data as { path: string }).path, join(bob.cwd, "album", "beach.jpg"));
    const home = await bob.ok("downloadFile beach.jpg ~/");
    assert.equal((home.data as { path: string }).path, join(system.root, "home", "beach.jpg"));
  });

  test("5: a mistyped command is not chatted; `say` sends any text", async () => {
    for (const line of ["listAlbms", "listfiles", "download beach.jpg", "Help"]) {
      const error = await alice.fails(line, "invalid_argument");
      assert.match(error, /did you mean '/, line);
      assert.match(error, /say /, line);
    }
    await alice.ok("say listfiles is a command, bob");
    await alice.ok("hello bob");
    await bob.waitEvent((e) => e.event === "chat" && e.text === "hello bob", "alice's hello");
    assert.deepEqual(
      bob.chats().map((c) => c.text),
      ["listfiles is a command, bob", "hello bob"],
    );
  });

  test("16: --json gives one object per chat line; plain errors go to stderr", async () => {
    const before = alice.lines.length;
    await alice.ok("one object for this");
    await bob.waitEvent((e) => e.event === "chat" && e.text === "one object for this", "chat");
    const mine = alice.lines.slice(before).filter((line) => line.includes("one object for this"));
    assert.equal(mine.length, 1, mine.join("\n"));
    assert.equal((JSON.parse(mine[0]!) as { command: string }).command, "chat");

    const run = await runClientScript(
      ["--central", system.central],
      ["login alice password-of-alice", "listAlbums", "bogus", "createAlbum trip"],
      { json: false },
    );
    assert.equal(run.status, 1);
    assert.deepEqual(run.lines, ["logged in as 'alice'", "trip (2 members, 2 editing now)"]);
    assert.equal(run.errors.length, 2, run.stderr);
    assert.match(run.errors[0]!, /^error: invalid argument: unknown command 'bogus'/);
    assert.match(run.errors[1]!, /^error: already exists:/);
  });

  test("12: listFiles is an aligned table with size, who added it and when, and the rating; listReplica too", async () => {
    await bob.ok("rateFile beach.jpg 4");
    // 11: alice is told, naming bob, the stars and the new average.
    const rated = await alice.waitEvent((e) => e.event === "filesChanged", "bob's rating");
    assert.deepEqual(rated, {
      event: "filesChanged",
      by: "bob",
      changes: [{ kind: "rated", name: "beach.jpg", stars: 4, average: 4, ratings: 1 }],
    });
    const listed = await bob.ok("listFiles");
    assert.deepEqual((listed.data as { files: unknown[] }).files, [
      { name: "beach.jpg", average: 4, ratings: 1 },
    ]);
    const lines = listed.text.split("\n");
    assert.match(lines[0]!, /^name\s+size\s+added by\s+added\s+rating$/);
    // The date the shell recorded when alice added it, in local time.
    assert.match(
      lines[1]!,
      /^beach\.jpg\s+16 KiB\s+alice\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+4\.0 of 1$/,
    );
    assert.equal(lines[0]!.indexOf("added by"), lines[1]!.indexOf("alice"));
    assert.equal(lines[0]!.lastIndexOf("added"), lines[1]!.search(/\d{4}-/));

    // listReplica keeps the causal details, labelled and aligned, sizes for people.
    const replica = (await bob.ok("listReplica")).text.split("\n");
    const header = replica.indexOf("files (1):") + 1;
    assert.match(
      replica[header]!,
      /^ {2}name\s+file id\s+size\s+added by\s+rating\s+added by changes$/,
    );
    const row = replica[header + 1]!;
    assert.match(row, /^ {2}beach\.jpg\s+[0-9a-f]{16}\s+16 KiB\s+alice\s+4\.00 of 1\s+\d+\.\d+$/);
    assert.equal(replica[header]!.indexOf("added by"), row.indexOf("alice"));
    assert.ok(replica.some((line) => line.includes("version vector {")));
  });

  test("18: a pseudo-file is stored with what was read; a FIFO is refused in one line", async () => {
    const added = await alice.ok("addFile /proc/self/environ environ.txt");
    const size = (added.data as { size: number }).size;
    assert.ok(size > 0, "not stored empty");
    await alice.ok("downloadFile environ.txt");
    const environ = readFileSync(join(alice.cwd, "environ.txt"));
    assert.equal(environ.length, size);
    assert.ok(environ.includes(Buffer.from(`HOME=${home}`)), "the content that was read");
    const fifo = join(system.root, "a-fifo");
    execFileSync("mkfifo", [fifo]);
    const refused = await alice.fails(`addFile ${fifo}`, "invalid_argument");
    assert.match(refused, /not a regular file/);
  });

  test("17: addFile of a folder adds each file; downloadFile --all fetches the album", async () => {
    const folder = join(system.root, "holiday");
    mkdirSync(folder);
    const random = seededRandom(17);
    const contents = new Map<string, Buffer>();
    for (const name of ["a.jpg", "b.jpg", "c.png"]) {
      const content = Buffer.from(Array.from({ length: 5000 }, () => Math.floor(random() * 256)));
      contents.set(name, content);
      writeFileSync(join(folder, name), content);
    }
    const added = await alice.ok(`addFile ${folder}`);
    assert.match(added.text, /added 3 of 3 files/);
    // 11: bob is told of each file alice added.
    await eventually(() => addedSeenBy(bob).includes("c.png"), "bob told of alice's files");
    assert.deepEqual(addedSeenBy(bob).slice(-3), ["a.jpg", "b.jpg", "c.png"]);
    const out = join(system.root, "everything");
    mkdirSync(out);
    const all = await bob.ok(`downloadFile --all ${out}`);
    assert.match(all.text, /downloaded \d+ of \d+ files/);
    for (const [name, content] of contents)
      assert.deepEqual(readFileSync(join(out, name)), content);
    assert.ok(existsSync(join(out, "beach.jpg")));
    // Again: every file exists now, so nothing is replaced without --force.
    const again = await bob.fails(`downloadFile --all ${out}`, "failed_precondition");
    assert.match(again, /already exists/);
  });

  test("6, 15: on a terminal, Ctrl-C cancels an upload; a notice prints above the bar", async () => {
    const big = join(system.root, "big.bin");
    // Sparse: a large file without writing it; hashing it takes long enough to act meanwhile.
    execFileSync("truncate", ["-s", "1G", big]);
    // 50 columns: the bar keeps its percentage and drops its decorations.
    const vera = PtyShell.start(["client", "--central", system.central], {
      columns: 50,
      // Its history goes to the test's folder, not the tester's.
      env: { HOME: home, XDG_STATE_HOME: join(system.root, "state") },
    });
    try {
      await vera.waitFor(/albumshare> $/, "the prompt");
      vera.type("register vera password-of-vera\rlogin vera password-of-vera\r");
      await vera.waitFor(/albumshare\(vera\)> $/, "logged in");
      await alice.ok("addUser vera");
      vera.type("getAlbum trip\r");
      await vera.waitFor(/albumshare\(vera:trip\)> $/, "editing");
      vera.type(`addFile ${big}\r`);
      await vera.waitFor(/\d+% \[[█░]+\] /, "the progress bar");
      await bob.ok("hi vera");
      await vera.waitFor(/\[bob\] hi vera/, "bob's chat");
      // eslint-disable-next-line no-control-regex -- the terminal's line clearing is what is checked
      assert.match(vera.raw, /\r\x1b\[2K\[bob\] hi vera\r\n/, "on a line of its own");
      // Each redraw starts at column 1 (ESC [ 1 G) and ends before the next escape.
      const bars = vera.raw
        .split("\x1b[1G")
        .map((draw) => draw.split("\x1b")[0]!)
        .filter((draw) => /^\s*\d+% \[/.test(draw));
      assert.ok(bars.length > 0, "the bar was drawn");
      for (const bar of bars) assert.ok([...bar].length < 50, `wider than the terminal: ${bar}`);
      assert.doesNotMatch(vera.text, /addFile hashing/);
      const mark = vera.text.length;
      vera.type(CTRL_C);
      await vera.waitFor(/cancelled: nothing was added/, "the cancellation", mark);
      await vera.waitFor(/albumshare\(vera:trip\)> $/, "the prompt again", mark);
      const files = (await bob.ok("listFiles")).data as { files: { name: string }[] };
      assert.ok(!files.files.some((file) => file.name === "big.bin"));
    } finally {
      await vera.kill();
    }
  });

  test("17: an upload cut off midway resumes where it stopped when addFile is typed again", async () => {
    const MiB = 1024 * 1024;
    const bytes = randomBytes(5 * MiB);
    const path = join(system.root, "cut.bin");
    writeFileSync(path, bytes);
    const key = createHash("sha256").update(bytes).digest("hex");
    // The first 2 MiB arrive, then the sender goes silent until the server cuts it off.
    const ring = new ClusterRingSource(system.cluster, CLUSTER_TOKEN);
    const connection = new GrpcConnection((await ring.refresh()).ownerOf(key).address);
    try {
      const call = connection.clientStream(DataService.method.upload);
      await call.send({
        part: { case: "header", value: { key, size: BigInt(bytes.length) } },
      });
      for (const at of [0, MiB])
        await call.send({ part: { case: "chunk", value: bytes.subarray(at, at + MiB) } });
      await eventually(
        async () =>
          Number((await connection.unary(DataService.method.stat, { key })).partialSize) ===
          2 * MiB,
        "the cut-off upload kept as a partial",
      );
      call.cancel();
      await call.finish().catch(() => undefined);
    } finally {
      connection.close();
      ring.close();
    }
    const added = await alice.ok(`addFile ${path}`);
    assert.equal(added.text, "added 'cut.bin' (5.0 MiB, resumed at 2.0 MiB)");
    // The add reaches bob over the peer mesh a moment later.
    await eventually(
      async () =>
        ((await bob.ok("listFiles")).data as { files: { name: string }[] }).files.some(
          (file) => file.name === "cut.bin",
        ),
      "bob has alice's cut.bin",
    );
    const back = join(system.root, "cut.back");
    await bob.ok(`downloadFile cut.bin ${back}`);
    assert.deepEqual(readFileSync(back), bytes);
  });

  test("9: a client pointed at the cluster port is told it is not a central server's port", async () => {
    const run = await runClientScript(
      ["--central", system.cluster],
      ["login alice password-of-alice"],
      { json: false },
    );
    assert.equal(run.status, 1);
    assert.equal(run.errors.length, 1, run.stderr);
    assert.match(run.errors[0]!, /is not an AlbumSharing central server's client port/);
  });

  test("10: names with spaces; two albums named 'trip' are told apart as creator/trip", async () => {
    await bob.ok("putAlbum");
    await bob.ok("createAlbum summer 2024");
    await bob.ok("createAlbum trip");
    const listed = await bob.ok("listAlbums");
    const lines = listed.text.split("\n");
    assert.deepEqual(lines.slice(0, 2), ["bob/trip (1 member)", "summer 2024 (1 member)"]);
    assert.match(lines[2]!, /^alice\/trip \(3 members, created by alice, \d editing now\)$/);
    const ambiguous = await bob.fails("getAlbum trip", "invalid_argument");
    assert.match(ambiguous, /'trip' is ambiguous: alice\/trip, bob\/trip/);
    const opened = await bob.ok("getAlbum alice/trip");
    assert.equal((opened.data as { album: string }).album, "trip");
  });
});
