// Pictures are addressed by album, FileId and a version tag, and the web
// server lets the browser keep them for good only under the current tag: a
// thumbnail or preview asked for with it is `immutable`; a stale or missing
// tag, and an original, get the short cache life as before. The page learns
// the tag from the album view.
import assert from "node:assert/strict";
import { test } from "node:test";
import { WebSocket } from "ws";
import type { FileView, LiveMessage } from "../../src/web/live-types.ts";
import { testJpeg } from "./helpers/test-media.ts";
import type { WebProcess } from "./helpers/web-process.ts";
import { useWebSystem } from "./helpers/web-system.ts";

let web: WebProcess;
let cookie: string;
useWebSystem((running) => ({ web, cookie } = running));

/** The first album view the live channel sends. */
function firstView(album: string): Promise<FileView[]> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(
      `ws://127.0.0.1:${web.port}/api/live?album=${encodeURIComponent(album)}`,
      { headers: { Cookie: cookie, Origin: web.origin } },
    );
    socket.on("message", (data: Buffer) => {
      const message = JSON.parse(data.toString("utf8")) as LiveMessage;
      if (message.type === "album" && message.album.files.length > 0) {
        resolve(message.album.files);
        socket.close();
      }
    });
    socket.on("error", reject);
  });
}

void test("a picture under its current version tag may be kept for good, others not", async () => {
  assert.equal(
    (await web.json("POST", "/api/albums", { name: "trip" }, { Cookie: cookie })).status,
    200,
  );
  const staged = await web.send("POST", "/api/uploads", {
    headers: { Cookie: cookie, "Content-Type": "application/octet-stream" },
    body: await testJpeg(320, 240, 7),
  });
  assert.equal(staged.status, 200, staged.body);
  const { upload } = JSON.parse(staged.body) as { upload: string };
  const added = await web.json(
    "POST",
    "/api/albums/trip/files",
    { name: "beach.jpg", upload },
    { Cookie: cookie },
  );
  assert.equal(added.status, 200, added.body);

  const [file] = await firstView("trip");
  assert.ok(file && file.thumbnail && file.preview);
  assert.match(file.version, /^[A-Za-z0-9_-]{16}$/);
  const base = `/api/albums/trip/files/${file.id}`;
  for (const variant of ["thumbnail", "preview"]) {
    const current = await web.send("GET", `${base}/${variant}?v=${file.version}`, {
      headers: { Cookie: cookie },
    });
    assert.equal(current.status, 200, current.body);
    assert.equal(current.headers["content-type"], "image/webp");
    assert.equal(current.headers["cache-control"], "private, max-age=31536000, immutable");
    for (const stale of [`${base}/${variant}?v=AAAAAAAAAAAAAAAA`, `${base}/${variant}`]) {
      const reply = await web.send("GET", stale, { headers: { Cookie: cookie } });
      assert.equal(reply.status, 200, stale);
      assert.equal(reply.headers["cache-control"], "private, max-age=3600", stale);
    }
  }
  const original = await web.send("GET", `${base}/original?v=${file.version}`, {
    headers: { Cookie: cookie },
  });
  assert.equal(original.status, 200);
  assert.equal(original.headers["cache-control"], "private, max-age=3600");
  // Without the cookie, no picture at all, whatever the tag.
  const stranger = await web.send("GET", `${base}/thumbnail?v=${file.version}`);
  assert.equal(stranger.status, 401);
});
