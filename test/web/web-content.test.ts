// Serving originals from verified content only, against the real servers: a
// large video a shell added is answered for a range from its middle with
// exactly its bytes, and a copy corrupted on the data server never reaches
// the page (the web server refuses it with one error line, keeps nothing of
// it, and serves the content once the data server's copy is sound again).
// The data servers verify whole contents only (the key is the SHA-256 of the
// whole file), so the web server fetches and checks a whole original before
// it answers any range of it; see docs/web.md.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { open, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
import { LocalSystem, type ShellClient } from "../session/helpers/local-system.ts";
import { WebProcess } from "./helpers/web-process.ts";
import type { AlbumView } from "../../src/web/live-types.ts";

const MiB = 1024 * 1024;

let system: LocalSystem;
let web: WebProcess;
let cookie: string;
let shell: ShellClient;
const long = randomBytes(24 * MiB);
const bad = randomBytes(8 * MiB);

before(async () => {
  system = await LocalSystem.start(1);
  web = await WebProcess.start(system.central, system.root);
  cookie = await web.login("alice");
  assert.equal(
    (await web.json("POST", "/api/albums", { name: "films" }, { Cookie: cookie })).status,
    200,
  );
  shell = system.client("sam");
  await shell.ok("register sam sam-password");
  const added = await web.json(
    "POST",
    "/api/albums/films/members",
    { name: "sam" },
    { Cookie: cookie },
  );
  assert.equal(added.status, 200, added.body);
  await shell.ok("login sam sam-password");
  await shell.ok("getAlbum films");
  await writeFile(join(shell.cwd, "long.webm"), long);
  await writeFile(join(shell.cwd, "bad.webm"), bad);
  await shell.ok(`addFile ${join(shell.cwd, "long.webm")} ${join(shell.cwd, "bad.webm")}`);
  await shell.ok("putAlbum");
});

after(async () => {
  await shell?.close();
  await web?.stop();
  await system?.stop();
});

/** The album as alice's page sees it (its first live message). */
async function albumView(): Promise<AlbumView> {
  const socket = new WebSocket(`ws://127.0.0.1:${web.port}/api/live?album=films`, {
    headers: { Origin: web.origin, Cookie: cookie },
  });
  try {
    return await new Promise<AlbumView>((resolve, reject) => {
      socket.on("message", (data: Buffer) => {
        const message = JSON.parse(data.toString("utf8")) as { type: string; album?: AlbumView };
        if (message.type === "album" && message.album!.files.length === 2) resolve(message.album!);
      });
      socket.once("error", reject);
    });
  } finally {
    socket.close();
  }
}

async function fileId(name: string): Promise<string> {
  const file = (await albumView()).files.find((candidate) => candidate.name === name);
  assert.ok(file, `no ${name} in the album`);
  return file.id;
}

async function getRange(id: string, range: string) {
  return web.send("GET", `/api/albums/films/files/${id}/original`, {
    headers: { Cookie: cookie, Range: range },
  });
}

/** The body of a reply as bytes (web.send decodes UTF-8, so ask again in latin1). */
async function rangeBytes(id: string, start: number, end: number): Promise<Buffer> {
  const { request } = await import("node:http");
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: "127.0.0.1",
        port: web.port,
        path: `/api/albums/films/files/${id}/original`,
        headers: { Host: `127.0.0.1:${web.port}`, Cookie: cookie, Range: `bytes=${start}-${end}` },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          if (response.statusCode !== 206) reject(new Error(`status ${response.statusCode}`));
          else resolve(Buffer.concat(chunks));
        });
      },
    );
    outgoing.on("error", reject);
    outgoing.end();
  });
}

void test("a range from the middle of a large video is answered with exactly its bytes", async () => {
  const id = await fileId("long.webm");
  const start = 12 * MiB + 12345;
  const end = start + 300_000 - 1;
  const head = await getRange(id, `bytes=${start}-${end}`);
  assert.equal(head.status, 206, head.body.slice(0, 200));
  assert.equal(head.headers["content-range"], `bytes ${start}-${end}/${long.length}`);
  assert.equal(head.headers["content-type"], "video/webm");
  assert.ok((await rangeBytes(id, start, end)).equals(long.subarray(start, end + 1)));
  // The last bytes, as a seek to the end asks for them.
  assert.ok(
    (await rangeBytes(id, long.length - 1000, long.length - 1)).equals(long.subarray(-1000)),
  );
});

void test("a copy corrupted on the data server never reaches the page", async () => {
  const id = await fileId("bad.webm");
  const key = createHash("sha256").update(bad).digest("hex");
  const stored = join(system.root, "data-1", "objects", key.slice(0, 2), key);
  const middle = 4 * MiB;
  const handle = await open(stored, "r+");
  await handle.write(Buffer.from("corrupted!"), 0, 10, middle);
  await handle.close();

  for (const range of [`bytes=${middle - 100}-${middle + 100}`, "bytes=0-999"]) {
    const reply = await getRange(id, range);
    assert.equal(reply.status, 500, reply.body.slice(0, 200));
    assert.match(reply.body, /does not hash to its key/);
    assert.ok(!reply.body.includes("corrupted!"));
    assert.equal(reply.headers["content-range"], undefined);
  }
  const cached = await readdir(join(system.root, "web", "cache"));
  assert.ok(!cached.some((name) => name.startsWith(key)), `kept: ${cached.join(", ")}`);

  // Nothing of the failure is remembered: once the copy is sound, it is served.
  const repair = await open(stored, "r+");
  await repair.write(bad.subarray(middle, middle + 10), 0, 10, middle);
  await repair.close();
  assert.ok(
    (await rangeBytes(id, middle - 100, middle + 100)).equals(
      bad.subarray(middle - 100, middle + 101),
    ),
  );
});
