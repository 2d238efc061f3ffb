// The web server's limits, against the real process, with clients written
// to misbehave on raw sockets: a trickled JSON body, a stalled upload, giant
// JSON bodies, many parallel stalled uploads, too many live channels and a
// live channel that never reads. Each is answered with one clear status (or
// closed) and freed, a well-behaved client is served meanwhile, nothing is
// left on disk and the server's resident memory stays bounded. Short limits
// are set on the command line so the test stays fast; every loop is bounded
// in count and stops by itself.
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
import { eventually } from "../support/eventually.ts";
import { openFilesUnder, residentBytes } from "../support/proc-stats.ts";
import { LocalSystem } from "../session/helpers/local-system.ts";
import { rawRequest, statusOf, trickle } from "./helpers/raw-http.ts";
import { WebProcess } from "./helpers/web-process.ts";

const MiB = 1024 * 1024;
/** Resident memory the floods below may add to the server (they hold a few MiB by design). */
const RSS_GROWTH_BOUND = 96 * MiB;

let system: LocalSystem;
let web: WebProcess;
let alice: string;
let bob: string;
/** Floods the uploads; no other test stages files under this user. */
let dave: string;
let uploadsDir: string;

before(async () => {
  system = await LocalSystem.start(1);
  web = await WebProcess.start(system.central, system.root, [
    "--body-idle-timeout-ms",
    "1000",
    "--json-body-timeout-ms",
    "2000",
    "--max-pages-per-session",
    "4",
    "--page-backlog-kb",
    "64",
  ]);
  uploadsDir = join(system.root, "web", "uploads");
  alice = await web.login("alice");
  bob = await web.login("bob");
  dave = await web.login("dave");
  const created = await web.json("POST", "/api/albums", { name: "trip" }, { Cookie: alice });
  assert.equal(created.status, 200, created.body);
  const added = await web.json(
    "POST",
    "/api/albums/trip/members",
    { name: "bob" },
    { Cookie: alice },
  );
  assert.equal(added.status, 200, added.body);
});

after(async () => {
  // A crash of the server is the worst failure of all: show what it said.
  if (web && web.server.child.exitCode !== null) process.stderr.write(web.server.stderr);
  await web?.stop();
  await system?.stop();
});

/** A request head as the page would send it; `Connection: close` unless the headers say otherwise. */
function head(method: string, path: string, headers: Record<string, string | number>): string {
  const lines = [
    `${method} ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${web.port}`,
    `Origin: ${web.origin}`,
    ...("Connection" in headers ? [] : ["Connection: close"]),
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return lines.join("\r\n");
}

const pid = (): number => web.server.child.pid!;

async function stagedFiles(): Promise<string[]> {
  return readdir(uploadsDir).catch(() => []);
}

void test("a trickled JSON body is cut off at its time limit with 408", async () => {
  const raw = rawRequest(
    web.port,
    head("POST", "/api/login", { "Content-Type": "application/json", "Content-Length": 400 }),
  );
  // A byte every 250 ms keeps it from being idle; the total limit (2 s) ends it.
  void trickle(raw.socket, 400, 250);
  const reply = await raw.closed;
  assert.equal(statusOf(reply), 408, reply);
  assert.match(reply, /the request body did not arrive within 2 s/);
});

void test("a stalled upload is cut off when idle and its staged file is deleted; a slow one that moves is not", async () => {
  const stalled = rawRequest(
    web.port,
    head("POST", "/api/uploads", {
      Cookie: alice,
      "Content-Type": "application/octet-stream",
      "Content-Length": 8 * MiB,
    }),
  );
  stalled.socket.write(Buffer.alloc(256 * 1024, 1));
  const reply = await stalled.closed;
  assert.equal(statusOf(reply), 408, reply);
  assert.match(reply, /the request body stalled: no byte for 1 s/);
  await eventually(async () => (await stagedFiles()).length === 0, "the staged file is deleted");

  // An upload is limited in idleness, not in total time: 30 bytes over ~3 s pass.
  const slow = rawRequest(
    web.port,
    head("POST", "/api/uploads", {
      Cookie: alice,
      "Content-Type": "application/octet-stream",
      "Content-Length": 30,
    }),
  );
  void trickle(slow.socket, 30, 100);
  const slowReply = await slow.closed;
  assert.equal(statusOf(slowReply), 200, slowReply);
  assert.match(slowReply, /"size":30/);
});

void test("giant JSON bodies are refused with 413, declared or streamed", async () => {
  const declared = rawRequest(
    web.port,
    head("POST", "/api/albums", {
      Cookie: alice,
      "Content-Type": "application/json",
      "Content-Length": 100 * MiB,
    }),
  );
  const declaredReply = await declared.closed;
  assert.equal(statusOf(declaredReply), 413, declaredReply);
  assert.match(declaredReply, /larger than 64 KiB/);

  const streamed = rawRequest(
    web.port,
    head("POST", "/api/albums", {
      Cookie: alice,
      "Content-Type": "application/json",
      "Transfer-Encoding": "chunked",
      // As a browser sends it: the server ends the connection after its reply.
      Connection: "keep-alive",
    }),
  );
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let answered = false;
  void streamed.reply.then(() => (answered = true));
  // At most 8 MiB, until the reply comes (the server refuses after 64 KiB).
  for (let sent = 0; sent < 128 && !answered && !streamed.socket.destroyed; sent++) {
    streamed.socket.write(`${chunk.length.toString(16)}\r\n`);
    streamed.socket.write(chunk);
    streamed.socket.write("\r\n");
    await new Promise((resolve) => setImmediate(resolve));
  }
  const streamedReply = await streamed.reply;
  assert.equal(statusOf(streamedReply), 413, streamedReply);
  // A client that stops there is disconnected within a moment (the body never ended).
  await streamed.closed;
});

void test("many parallel stalled uploads: refused past the per-user bound, cut off when idle, others served, memory bounded", async () => {
  const rssBefore = await residentBytes(pid());
  const floods = Array.from({ length: 40 }, () => {
    const raw = rawRequest(
      web.port,
      head("POST", "/api/uploads", {
        Cookie: dave,
        "Content-Type": "application/octet-stream",
        "Content-Length": 100 * MiB,
      }),
    );
    raw.socket.write(Buffer.alloc(128 * 1024, 2));
    // Kept moving for a few seconds (12 bytes, 250 ms apart), then stalled.
    void trickle(raw.socket, 12, 250);
    return raw;
  });
  // Meanwhile another user is served: a listing and an upload of their own.
  const listing = await web.send("GET", "/api/albums", { headers: { Cookie: bob } });
  assert.equal(listing.status, 200, listing.body);
  const upload = await web.send("POST", "/api/uploads", {
    headers: { Cookie: bob, "Content-Type": "application/octet-stream" },
    body: Buffer.alloc(100_000, 3),
  });
  assert.equal(upload.status, 200, upload.body);
  const replies = await Promise.all(floods.map((raw) => raw.closed));
  const statuses = replies.map(statusOf);
  assert.equal(statuses.filter((status) => status === 429).length, 24, statuses.join(" "));
  assert.equal(statuses.filter((status) => status === 408).length, 16, statuses.join(" "));
  assert.match(
    replies.find((reply) => statusOf(reply) === 429)!,
    /at most 16 per user/,
  );
  // Everything is freed: dave can upload again, no staged file of the floods stays open.
  const again = await web.send("POST", "/api/uploads", {
    headers: { Cookie: dave, "Content-Type": "application/octet-stream" },
    body: "fine",
  });
  assert.equal(again.status, 200, again.body);
  await eventually(
    async () => (await openFilesUnder(pid(), uploadsDir)) === 0,
    "no staged upload held open",
  );
  const growth = (await residentBytes(pid())) - rssBefore;
  process.stdout.write(
    `# web server RSS growth after 40 stalled uploads: ${(growth / MiB).toFixed(1)} MiB\n`,
  );
  assert.ok(growth < RSS_GROWTH_BOUND, `RSS grew ${(growth / MiB).toFixed(1)} MiB`);
});

interface OpenedChannel {
  socket: WebSocket;
  first: Promise<{ type: string; message?: string }>;
  closeCode: Promise<number>;
}

function openChannel(cookie: string): OpenedChannel {
  const socket = new WebSocket(`ws://127.0.0.1:${web.port}/api/live?album=trip`, {
    headers: { Origin: web.origin, Cookie: cookie },
  });
  const first = new Promise<{ type: string; message?: string }>((resolve, reject) => {
    socket.once("message", (data: Buffer) => resolve(JSON.parse(data.toString("utf8"))));
    socket.once("error", reject);
  });
  const closeCode = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
  return { socket, first, closeCode };
}

void test("live channels past the per-session bound are refused with a clear line; the open ones stay", async () => {
  const open = Array.from({ length: 4 }, () => openChannel(alice));
  for (const channel of open) assert.equal((await channel.first).type, "album");
  const fifth = openChannel(alice);
  const refused = await fifth.first;
  assert.equal(refused.type, "error");
  assert.match(refused.message ?? "", /too many open album pages for this login \(at most 4\)/);
  assert.equal(await fifth.closeCode, 1008);
  // Another person's pages are not counted against alice.
  const bobs = openChannel(bob);
  assert.equal((await bobs.first).type, "album");
  // Closing one page makes room for a new one; the others were never closed.
  open[0]!.socket.close();
  await open[0]!.closeCode;
  await eventually(async () => {
    const next = openChannel(alice);
    const message = await next.first;
    next.socket.close();
    return message.type === "album";
  }, "a new page of alice is admitted once one closed");
  for (const channel of open.slice(1)) assert.equal(channel.socket.readyState, WebSocket.OPEN);
  for (const channel of [...open, bobs]) channel.socket.close();
});

void test("a live channel that never reads is closed once its backlog passes the bound; other pages are served", async () => {
  const rssBefore = await residentBytes(pid());
  const reader = openChannel(bob);
  assert.equal((await reader.first).type, "album");
  let last = "";
  reader.socket.on("message", (data: Buffer) => (last = data.toString("utf8")));
  const key = Buffer.from("0123456789abcdef").toString("base64");
  const silent = rawRequest(
    web.port,
    head("GET", "/api/live?album=trip", {
      Cookie: alice,
      Upgrade: "websocket",
      "Sec-WebSocket-Version": 13,
      "Sec-WebSocket-Key": key,
      Connection: "Upgrade",
    }),
    { paused: true },
  );
  // 2,000 chat lines of ~4 KB (8 MB, four posts at a time): more than the
  // network's buffers (a few MB on loopback) and the 64 KiB bound together.
  // Nothing is read from the silent page meanwhile.
  const line = "x".repeat(3900);
  let next = 0;
  const poster = async (): Promise<void> => {
    while (next < 2000) {
      const count = next++;
      const sent = await web.json(
        "POST",
        "/api/albums/trip/chat",
        { text: `${count} ${line}` },
        { Cookie: alice },
      );
      assert.equal(sent.status, 200, sent.body);
    }
  };
  await Promise.all([poster(), poster(), poster(), poster()]);
  const after = await web.json(
    "POST",
    "/api/albums/trip/chat",
    { text: "still here" },
    { Cookie: alice },
  );
  assert.equal(after.status, 200, after.body);
  await eventually(() => last.includes("still here"), "the reading page gets the new line");
  silent.socket.resume();
  // Dropped by the server: reading what the network held ends at its close.
  // (A channel that was kept would send no more and never close.)
  const everything = await Promise.race([
    silent.closed,
    new Promise<string>((resolve) => setTimeout(() => resolve("still open"), 30_000).unref()),
  ]);
  assert.equal(statusOf(everything), 101, everything.slice(0, 200));
  silent.socket.destroy();
  const growth = (await residentBytes(pid())) - rssBefore;
  assert.ok(growth < RSS_GROWTH_BOUND, `RSS grew ${(growth / MiB).toFixed(1)} MiB`);
  reader.socket.close();
});
