// Serving originals from verified content only, against the real servers. A
// large video a shell added (so it has a chunk index) is answered for a range
// from its middle from verified blocks, even while a block elsewhere is
// corrupted on the data server so that the whole file cannot be verified at
// all; a range reaching the corrupted block is cut before its first byte. A
// file without a chunk index is verified whole: a corrupted copy is refused
// with one error line. Nothing of a failure is kept: once the data server's
// copy is sound again, it is served. See docs/web.md.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { open, readdir, writeFile } from "node:fs/promises";
import { request } from "node:http";
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
const BLOCK = MiB;

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
  await writeFile(join(shell.cwd, "bad.bin"), bad);
  await shell.ok(`addFile ${join(shell.cwd, "long.webm")} ${join(shell.cwd, "bad.bin")}`);
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

interface Fetched {
  status: number;
  body: Buffer;
  /** False when the server cut the reply short. */
  complete: boolean;
  headers: Record<string, string | string[] | undefined>;
}

/** GET of an original, optionally a range, as bytes; a cut reply resolves with what came. */
function fetchOriginal(id: string, range?: string): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: "127.0.0.1",
        port: web.port,
        path: `/api/albums/films/files/${id}/original`,
        headers: {
          Host: `127.0.0.1:${web.port}`,
          Cookie: cookie,
          ...(range === undefined ? {} : { Range: range }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", () => {});
        response.on("close", () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks),
            complete: response.complete,
            headers: response.headers,
          }),
        );
      },
    );
    outgoing.on("error", reject);
    outgoing.end();
  });
}

async function corrupt(content: Buffer, at: number): Promise<() => Promise<void>> {
  const key = createHash("sha256").update(content).digest("hex");
  const stored = join(system.root, "data-1", "objects", key.slice(0, 2), key);
  const handle = await open(stored, "r+");
  await handle.write(Buffer.from("corrupted!"), 0, 10, at);
  await handle.close();
  return async () => {
    const repair = await open(stored, "r+");
    await repair.write(content.subarray(at, at + 10), 0, 10, at);
    await repair.close();
  };
}

async function cachedNames(): Promise<string[]> {
  return readdir(join(system.root, "web", "cache"));
}

void test("a range from the middle of a large video is served from verified blocks; a corrupted block never", async () => {
  const id = await fileId("long.webm");
  const key = createHash("sha256").update(long).digest("hex");
  // Block 20 is corrupted on the data server: the whole file can never be verified.
  const repair = await corrupt(long, 20 * BLOCK + 5);

  const start = 12 * BLOCK + 12345;
  const end = start + 300_000 - 1;
  const middle = await fetchOriginal(id, `bytes=${start}-${end}`);
  assert.equal(middle.status, 206);
  assert.equal(middle.headers["content-range"], `bytes ${start}-${end}/${long.length}`);
  assert.equal(middle.headers["content-type"], "video/webm");
  assert.ok(middle.complete);
  assert.ok(middle.body.equals(long.subarray(start, end + 1)));

  // A range over blocks 19 and 20: block 19's part comes, then the reply is cut.
  const across = await fetchOriginal(id, `bytes=${19 * BLOCK + 1000}-${20 * BLOCK + 999}`);
  assert.equal(across.status, 206);
  assert.equal(across.complete, false);
  assert.ok(across.body.length <= BLOCK - 1000, `${across.body.length} bytes came`);
  assert.ok(
    across.body.equals(long.subarray(19 * BLOCK + 1000, 19 * BLOCK + 1000 + across.body.length)),
  );
  assert.ok(!across.body.includes("corrupted!"));

  // Without a range the whole file is verified first: refused, and nothing kept.
  const whole = await fetchOriginal(id);
  assert.equal(whole.status, 500);
  assert.match(whole.body.toString("utf8"), /does not hash to its key/);
  assert.ok(!(await cachedNames()).some((name) => name.startsWith(key)));

  await repair();
  const sound = await fetchOriginal(id);
  assert.equal(sound.status, 200);
  assert.ok(sound.body.equals(long));
  // Now cached whole: a range is answered from the cache.
  const cachedRange = await fetchOriginal(id, `bytes=${long.length - 1000}-`);
  assert.ok(cachedRange.body.equals(long.subarray(-1000)));
});

void test("a file without a chunk index is verified whole: a corrupted copy never reaches the page", async () => {
  const id = await fileId("bad.bin");
  const key = createHash("sha256").update(bad).digest("hex");
  const at = 4 * BLOCK;
  const repair = await corrupt(bad, at);
  for (const range of [`bytes=${at - 100}-${at + 100}`, "bytes=0-999"]) {
    const reply = await fetchOriginal(id, range);
    assert.equal(reply.status, 500, reply.body.subarray(0, 200).toString("utf8"));
    assert.match(reply.body.toString("utf8"), /does not hash to its key/);
    assert.ok(!reply.body.includes("corrupted!"));
    assert.equal(reply.headers["content-range"], undefined);
  }
  assert.ok(!(await cachedNames()).some((name) => name.startsWith(key)));

  // Nothing of the failure is remembered: once the copy is sound, it is served.
  await repair();
  const sound = await fetchOriginal(id, `bytes=${at - 100}-${at + 100}`);
  assert.equal(sound.status, 206);
  assert.ok(sound.body.equals(bad.subarray(at - 100, at + 101)));
});
