// The web app in a real browser: headless Chromium (Debian's, driven by
// playwright-core) against a real central server, data servers, one
// `albumshare web` with two browser sessions (alice and bob, each a browser
// of their own) and a shell editor. Pages are driven by role and accessible
// name, as a screen reader would. The clip fixture is a 4 s VP8 WebM made
// with `ffmpeg -f lavfi -i testsrc=size=160x120:rate=10:duration=4 -c:v
// libvpx -b:v 60k -g 10 -an`.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { eventually } from "../support/eventually.ts";
import { LocalSystem } from "../session/helpers/local-system.ts";
import { browserSkipReason, PersonBrowser } from "./helpers/browser.ts";
import { testJpeg } from "./helpers/test-media.ts";
import { WebProcess } from "./helpers/web-process.ts";

const skip = browserSkipReason();
if (skip) process.stdout.write(`# browser tests skipped: ${skip}\n`);

const clip = readFileSync(fileURLToPath(new URL("./fixtures/clip.webm", import.meta.url)));
const MARKUP_NAME = "b <img src=x onerror=alert(1)>.jpg";
const WAIT = { timeout: 30_000 };

let system: LocalSystem;
let web: WebProcess;
let url: string;
let alice: PersonBrowser;
let bob: PersonBrowser;

before(async () => {
  if (skip) return;
  system = await LocalSystem.start(2);
  web = await WebProcess.start(system.central, system.root);
  url = `${web.origin}/`;
  alice = await PersonBrowser.launch();
  bob = await PersonBrowser.launch();
});

after(async () => {
  if (skip) return;
  await alice?.close();
  await bob?.close();
  await web?.stop();
  await system?.stop();
});

async function register(page: Page, name: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Password").fill(`${name}-password`);
  await page.getByRole("button", { name: "Register" }).click();
  await page.getByRole("heading", { name: `${name}'s albums` }).waitFor(WAIT);
}

async function openAlbum(page: Page, album: string): Promise<void> {
  await page.goto(`${url}#/album/${encodeURIComponent(album)}`);
  await page.getByText("live", { exact: true }).waitFor(WAIT);
}

// The few DOM members used in page functions (the tests compile without the DOM library).
interface ImageElement {
  naturalWidth: number;
}
interface VideoElement {
  muted: boolean;
  readyState: number;
  duration: number;
  currentTime: number;
  play(): Promise<void>;
  addEventListener(
    type: string,
    listener: (value: unknown) => void,
    options: { once: boolean },
  ): void;
}

const thumbnail = (page: Page, name: string) => page.getByRole("img", { name, exact: true });

void test("two people and a shell edit one album in the browser", { skip }, async () => {
  const a = alice.page;
  const b = bob.page;
  await register(a, "alice");
  await register(b, "bob");

  // alice creates the album and adds bob.
  await a.getByLabel("New album name").fill("trip");
  await a.getByRole("button", { name: "Create album" }).click();
  await a.getByRole("link", { name: "trip" }).click();
  await a.getByText("live", { exact: true }).waitFor(WAIT);
  await a.getByLabel("Member name").fill("bob");
  await a.getByRole("button", { name: "Add member" }).click();
  await a.getByRole("button", { name: "Remove member bob" }).waitFor(WAIT);

  // bob opens it and sees alice editing.
  await openAlbum(b, "trip");
  await b.getByRole("list", { name: "Editing now" }).getByText("alice").waitFor(WAIT);

  // alice uploads three JPEGs (one named with markup) and a short video by the picker.
  const photos = [
    { name: "p1.jpg", buffer: await testJpeg(1600, 1200, 1) },
    { name: "p2.jpg", buffer: await testJpeg(800, 1200, 2) },
    { name: MARKUP_NAME, buffer: await testJpeg(640, 480, 3) },
  ];
  // Everything the pages receive as text: no content key may appear in it.
  const received: string[] = [];
  for (const page of [a, b]) {
    page.on("websocket", (socket) =>
      socket.on("framereceived", (frame) => received.push(String(frame.payload))),
    );
    page.on("response", async (response) => {
      const type = response.headers()["content-type"] ?? "";
      if (type.startsWith("application/json")) received.push(await response.text().catch(() => ""));
      received.push(response.url(), JSON.stringify(response.headers()));
    });
  }
  const seenRanges: string[] = [];
  a.on("request", (request) => {
    const range = request.headers()["range"];
    if (request.url().endsWith("/original") && range) seenRanges.push(range);
  });
  await a
    .getByLabel("Add photos and videos")
    .setInputFiles([
      ...photos.map((photo) => ({ ...photo, mimeType: "image/jpeg" })),
      { name: "clip.webm", mimeType: "video/webm", buffer: clip },
    ]);

  // bob's page shows the three thumbnails without a reload; the markup is text.
  for (const photo of photos) await thumbnail(b, photo.name).waitFor(WAIT);
  // The video's tile shows the poster frame alice's browser drew.
  await thumbnail(b, "clip.webm").waitFor(WAIT);
  assert.equal(await b.locator("img[src='x']").count(), 0, "markup in a name became an element");
  await b.getByText(MARKUP_NAME, { exact: true }).first().waitFor(WAIT);
  // The thumbnails really loaded (and are the small rendition).
  await eventually(
    () => thumbnail(b, "p1.jpg").evaluate((img: ImageElement) => img.naturalWidth === 256),
    "bob's p1.jpg thumbnail is a 256 px rendition",
  );

  // bob rates p1 four stars; alice sees the new average.
  await b.getByRole("button", { name: "Open p1.jpg" }).click();
  await b.getByRole("button", { name: "Rate 4 stars" }).click();
  await b.getByText("You rated it 4 stars.").waitFor(WAIT);
  await b.keyboard.press("Escape");
  await a.getByRole("button", { name: "Open p1.jpg" }).click();
  await a.getByText("Average 4.00 from 1 rating").waitFor(WAIT);
  await a.getByRole("button", { name: "Close" }).click();

  // Chat both ways; markup in a message is text.
  await a.getByRole("textbox", { name: "Message", exact: true }).fill("hello <b>bob</b>");
  await a.getByRole("button", { name: "Send" }).click();
  await b.getByRole("log", { name: "Chat messages" }).getByText("hello <b>bob</b>").waitFor(WAIT);
  assert.equal(await b.locator(".chat-text b").count(), 0, "markup in chat became an element");
  await b.getByRole("textbox", { name: "Message", exact: true }).fill("hi alice");
  await b.getByRole("button", { name: "Send" }).click();
  await a.getByRole("log", { name: "Chat messages" }).getByText("hi alice").waitFor(WAIT);

  // A shell editor in the same session adds a photo: both pages show it.
  const shellPhoto = join(system.root, "from-shell.jpg");
  writeFileSync(shellPhoto, await testJpeg(1024, 768, 4));
  const shell = system.client("carol");
  await shell.ok("register carol carol-password");
  await shell.ok("login carol carol-password");
  await a.getByRole("textbox", { name: "Member name" }).fill("carol");
  await a.getByRole("button", { name: "Add member" }).click();
  await a.getByRole("button", { name: "Remove member carol" }).waitFor(WAIT);
  await shell.ok("getAlbum trip");
  await shell.ok(`addFile ${shellPhoto}`);
  await thumbnail(a, "from-shell.jpg").waitFor(WAIT);
  await thumbnail(b, "from-shell.jpg").waitFor(WAIT);
  await eventually(
    () => thumbnail(b, "from-shell.jpg").evaluate((img: ImageElement) => img.naturalWidth === 256),
    "the shell made the thumbnail of its photo",
  );
  await shell.close();

  // The video plays and seeks, through range requests.
  await a.getByRole("button", { name: "Open clip.webm" }).click();
  const video = a.locator("video.viewer-media");
  await video.waitFor(WAIT);
  const played = await video.evaluate(async (element: VideoElement) => {
    element.muted = true;
    if (element.readyState < 1) {
      await new Promise((resolve) =>
        element.addEventListener("loadedmetadata", resolve, { once: true }),
      );
    }
    await element.play();
    element.currentTime = 3;
    await new Promise((resolve) => element.addEventListener("seeked", resolve, { once: true }));
    return { duration: element.duration, at: element.currentTime };
  });
  assert.ok(Math.abs(played.duration - 4) < 0.5, `duration ${played.duration}`);
  assert.ok(played.at >= 2.9, `seeked to ${played.at}`);
  assert.ok(seenRanges.length > 0, "the video element made no range request");
  await a.getByRole("button", { name: "Close" }).click();

  // alice removes bob: his page says so and stops editing.
  await a.getByRole("button", { name: "Remove member bob" }).click();
  await b.getByText(/You are no longer editing this album/).waitFor(WAIT);
  assert.equal(await b.getByRole("textbox", { name: "Message", exact: true }).isDisabled(), true);

  const keys = [...photos.map((photo) => photo.buffer), clip].map((bytes) =>
    createHash("sha256").update(bytes).digest("hex"),
  );
  for (const key of keys) {
    assert.ok(!received.some((text) => text.includes(key)), "a content key reached a page");
  }
  assert.ok(received.length > 10, "the pages received nothing to check");

  const cspErrors = [...alice.errors, ...bob.errors].filter((text) =>
    /Content.Security.Policy/i.test(text),
  );
  assert.deepEqual(cspErrors, [], "a page broke its own Content-Security-Policy");
});
