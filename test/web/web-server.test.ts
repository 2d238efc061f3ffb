// The web server alone, spoken to as browsers and hostile pages would:
// foreign Host (DNS rebinding) and foreign Origin (cross-site requests) are
// refused on every route and on the live channel, without the session
// cookie nothing but the login page (and its icon) is served, bad input gets one JSON
// error line, and a 1 GiB upload passes through with flat memory.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { WebSocket } from "ws";
import type { WebProcess } from "./helpers/web-process.ts";
import { useWebSystem } from "./helpers/web-system.ts";

let web: WebProcess;
let cookie: string;
useWebSystem((running) => ({ web, cookie } = running));

function liveStatus(headers: Record<string, string>, album = "trip"): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(
      `ws://127.0.0.1:${web.port}/api/live?album=${encodeURIComponent(album)}`,
      { headers },
    );
    socket.on("upgrade", () => {
      resolve(101);
      socket.close();
    });
    socket.on("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
    socket.on("error", () => resolve(-1));
  });
}

void test("a foreign Host is refused everywhere (no DNS rebinding)", async () => {
  const host = { Host: `attacker.example:${web.port}` };
  assert.equal((await web.send("GET", "/", { headers: host })).status, 403);
  assert.equal((await web.send("GET", "/app.js", { headers: host })).status, 403);
  assert.equal(
    (await web.send("GET", "/api/albums", { headers: { ...host, Cookie: cookie } })).status,
    403,
  );
  const login = await web.json(
    "POST",
    "/api/login",
    { name: "alice", password: "alice-password" },
    host,
  );
  assert.equal(login.status, 403);
  assert.equal(login.headers["set-cookie"], undefined);
  assert.equal(
    await liveStatus({ ...host, Origin: `http://attacker.example:${web.port}`, Cookie: cookie }),
    403,
  );
});

void test("a foreign or missing Origin cannot change state or open the live channel", async () => {
  for (const origin of ["http://attacker.example", `http://127.0.0.1:${web.port + 1}`, "null"]) {
    const create = await web.json(
      "POST",
      "/api/albums",
      { name: "evil" },
      { Origin: origin, Cookie: cookie },
    );
    assert.equal(create.status, 403, origin);
    assert.match(create.body, /cross-origin request refused/);
    assert.equal(await liveStatus({ Origin: origin, Cookie: cookie }), 403, origin);
  }
  const noOrigin = await web.send("POST", "/api/albums", {
    headers: { Origin: "", "Content-Type": "application/json", Cookie: cookie },
    body: JSON.stringify({ name: "evil" }),
  });
  assert.equal(noOrigin.status, 403);
  const albums = await web.send("GET", "/api/albums", { headers: { Cookie: cookie } });
  assert.deepEqual(JSON.parse(albums.body), { albums: [] }, "a refused request created an album");
  // The page's own Origin works.
  const own = await web.json("POST", "/api/albums", { name: "trip" }, { Cookie: cookie });
  assert.equal(own.status, 200, own.body);
  assert.equal(await liveStatus({ Origin: web.origin, Cookie: cookie }), 101);
});

void test("without the session cookie only the login page is served", async () => {
  const page = await web.send("GET", "/");
  assert.equal(page.status, 200);
  assert.match(
    String(page.headers["content-security-policy"]),
    /default-src 'none'; script-src 'self'/,
  );
  assert.equal(page.headers["x-content-type-options"], "nosniff");
  // The page's icon is served too (a browser asks for it with every page).
  assert.match(page.body, /<link rel="icon" href="\/favicon.svg"/);
  const icon = await web.send("GET", "/favicon.svg");
  assert.equal(icon.status, 200);
  assert.equal(icon.headers["content-type"], "image/svg+xml");
  assert.match(icon.body, /^<svg /);
  const me = await web.send("GET", "/api/me");
  assert.deepEqual(JSON.parse(me.body), { user: null });
  for (const [method, path] of [
    ["GET", "/api/albums"],
    ["POST", "/api/albums"],
    ["POST", "/api/uploads"],
    ["POST", "/api/albums/trip/chat"],
    ["GET", "/api/albums/trip/files/0123456789abcdef/original"],
    ["DELETE", "/api/albums/trip/members/alice"],
  ] as const) {
    const reply = await web.send(method, path, {
      headers: { Cookie: "albumshare_session=forged-token" },
    });
    assert.equal(reply.status, 401, `${method} ${path}`);
  }
  assert.equal(await liveStatus({ Origin: web.origin }), 401);
  // The cookie a login sets cannot be read by scripts nor sent cross-site.
  const login = await web.json("POST", "/api/login", { name: "alice", password: "alice-password" });
  const setCookie = String([login.headers["set-cookie"]].flat()[0]);
  assert.match(setCookie, /; HttpOnly/);
  assert.match(setCookie, /; SameSite=Strict/);
});

void test("bad input gets one JSON error line and the server keeps serving", async () => {
  const headers = { Cookie: cookie, "Content-Type": "application/json" };
  const cases: [string, string | Buffer, number][] = [
    ["/api/albums", "{not json", 400],
    ["/api/albums", "[1,2]", 400],
    ["/api/albums", JSON.stringify({ name: 7 }), 400],
    ["/api/albums", Buffer.alloc(200_000, 0x20), 413],
    ["/api/albums/trip/files", JSON.stringify({ name: "x.jpg", upload: "nope" }), 404],
    ["/api/albums/trip/files/zz/rating", "{}", 404],
  ];
  for (const [path, body, status] of cases) {
    const reply = await web.send("POST", path, { headers, body });
    assert.equal(reply.status, status, `${path} ${reply.body}`);
    const parsed = JSON.parse(reply.body) as { error: { message: string } };
    assert.equal(parsed.error.message.includes("\n"), false);
  }
  const still = await web.send("GET", "/api/albums", { headers: { Cookie: cookie } });
  assert.equal(still.status, 200);
});

void test("a 1 GiB upload is streamed through with flat memory", async () => {
  const size = 1024 * 1024 * 1024;
  const chunk = Buffer.alloc(1024 * 1024, 7);
  let sent = 0;
  const body = new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      // Distinct chunks, so nothing deduplicates or compresses.
      chunk.writeUInt32BE(sent / chunk.length, 0);
      this.push(Buffer.from(chunk));
      sent += chunk.length;
    },
  });
  const before = await web.peakRss();
  const staged = await web.send("POST", "/api/uploads", {
    headers: {
      Cookie: cookie,
      "Content-Type": "application/octet-stream",
      "Content-Length": String(size),
    },
    body,
  });
  assert.equal(staged.status, 200, staged.body);
  const { upload } = JSON.parse(staged.body) as { upload: string };
  const added = await web.json(
    "POST",
    "/api/albums/trip/files",
    { name: "big.bin", upload },
    { Cookie: cookie },
  );
  assert.equal(added.status, 200, added.body);
  const peak = await web.peakRss();
  // Stated bound: the server's peak RSS stays under 256 MiB for a 1 GiB upload
  // (stage to disk + hash + stream to the data server), i.e. a quarter of the file.
  assert.ok(
    peak < 256 * 1024 * 1024,
    `peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (before ${(before / 2 ** 20).toFixed(0)} MiB)`,
  );
  process.stdout.write(
    `# web server peak RSS for a 1 GiB upload: ${(peak / 2 ** 20).toFixed(0)} MiB (before: ${(before / 2 ** 20).toFixed(0)} MiB)\n`,
  );
});
