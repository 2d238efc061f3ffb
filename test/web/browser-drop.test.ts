// Adding files by drag and drop, in headless Chromium against the real
// servers: several files dropped at once on the gallery (a real drop event
// whose DataTransfer is built in the page) each get their own progress bar
// and land in the album; one of them, slowed by the browser's own upload
// throttling, is cancelled from its Cancel button, never lands, and leaves
// nothing staged on the web server.
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Page } from "playwright-core";
import { eventually } from "../support/eventually.ts";
import { LocalSystem } from "../session/helpers/local-system.ts";
import { browserSkipReason, PersonBrowser } from "./helpers/browser.ts";
import { testJpeg } from "./helpers/test-media.ts";
import { WebProcess } from "./helpers/web-process.ts";

const skip = browserSkipReason();
if (skip) process.stdout.write(`# browser drop test skipped: ${skip}\n`);

const WAIT = { timeout: 30_000 };
const BIG_BYTES = 6 * 1024 * 1024;

let system: LocalSystem;
let web: WebProcess;
let url: string;
let person: PersonBrowser;

before(async () => {
  if (skip) return;
  system = await LocalSystem.start(1);
  web = await WebProcess.start(system.central, system.root);
  url = `${web.origin}/`;
  person = await PersonBrowser.launch();
});

after(async () => {
  if (skip) return;
  await person?.close();
  await web?.stop();
  await system?.stop();
});

async function openNewAlbum(page: Page, user: string, album: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel("Name").fill(user);
  await page.getByLabel("Password").fill(`${user}-password`);
  await page.getByRole("button", { name: "Register" }).click();
  await page.getByRole("heading", { name: `${user}'s albums` }).waitFor(WAIT);
  await page.getByLabel("New album name").fill(album);
  await page.getByRole("button", { name: "Create album" }).click();
  await page.getByRole("link", { name: album }).click();
  await page.getByText("live", { exact: true }).waitFor(WAIT);
}

// What the page functions below use of the DOM (the tests compile without the DOM library).
interface DropWindow {
  DataTransfer: new () => { items: { add(file: unknown): void } };
  File: new (parts: unknown[], name: string, options: { type: string }) => unknown;
  DragEvent: new (type: string, init: { bubbles: boolean; dataTransfer: unknown }) => unknown;
  MutationObserver: new (callback: () => void) => {
    observe(target: unknown, options: { childList: boolean; subtree: boolean }): void;
  };
  document: {
    body: unknown;
    querySelectorAll(selector: string): Iterable<{ getAttribute(name: string): string | null }>;
    querySelector(selector: string): { dispatchEvent(event: unknown): boolean } | null;
  };
  progressSeen: string[];
}

void test(
  "files dropped on the gallery each get a progress bar and land; a cancelled one does not",
  { skip },
  async () => {
    const page = person.page;
    await openNewAlbum(page, "dora", "dropped");
    const jpegs = await Promise.all(
      [1, 2, 3].map(async (seed) => ({
        name: `drop${seed}.jpg`,
        type: "image/jpeg",
        bytes: [...(await testJpeg(320, 240, seed))],
      })),
    );

    // Every progress bar that ever shows is recorded (a small file's row goes once it landed).
    await page.evaluate(() => {
      const win = globalThis as unknown as DropWindow;
      win.progressSeen = [];
      new win.MutationObserver(() => {
        for (const bar of win.document.querySelectorAll("progress")) {
          const label = bar.getAttribute("aria-label") ?? "";
          if (!win.progressSeen.includes(label)) win.progressSeen.push(label);
        }
      }).observe(win.document.body, { childList: true, subtree: true });
    });
    // The browser's own throttling keeps the big upload going long enough to cancel it.
    const cdp = await person.context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 512 * 1024,
    });

    await page.evaluate(
      ({ files, bigBytes }) => {
        const win = globalThis as unknown as DropWindow;
        const transfer = new win.DataTransfer();
        for (const file of files) {
          transfer.items.add(
            new win.File([new Uint8Array(file.bytes)], file.name, { type: file.type }),
          );
        }
        transfer.items.add(
          new win.File([new Uint8Array(bigBytes)], "big.bin", { type: "application/octet-stream" }),
        );
        const gallery = win.document.querySelector('ul[aria-label="Files"]');
        if (!gallery) throw new Error("no gallery on the page");
        gallery.dispatchEvent(new win.DragEvent("drop", { bubbles: true, dataTransfer: transfer }));
      },
      { files: jpegs, bigBytes: BIG_BYTES },
    );

    // The three photos land (by their thumbnails' alt names) while big.bin is still sending.
    for (const { name } of jpegs) {
      await page.getByRole("img", { name, exact: true }).waitFor(WAIT);
    }
    const bigBar = page.getByRole("progressbar", { name: "Uploading big.bin" });
    await bigBar.waitFor(WAIT);
    await page.getByRole("button", { name: "Cancel upload of big.bin" }).click();
    await page.getByText("cancelled", { exact: true }).waitFor(WAIT);
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });

    const seen = await page.evaluate(() => (globalThis as unknown as DropWindow).progressSeen);
    for (const name of [...jpegs.map((file) => file.name), "big.bin"]) {
      assert.ok(
        seen.includes(`Uploading ${name}`),
        `no progress bar for ${name}: ${seen.join(", ")}`,
      );
    }
    // The cancelled upload's staged bytes are gone, and it never became a file of the album.
    await eventually(
      async () => (await readdir(join(system.root, "web", "uploads"))).length === 0,
      "the cancelled upload's staged file is deleted",
    );
    await page.getByText("3 files", { exact: true }).waitFor(WAIT);
    assert.equal(await page.getByRole("img", { name: "big.bin" }).count(), 0);
    // Its row says "cancelled" for a moment, then goes; no tile of it ever shows.
    await page.getByText("big.bin", { exact: true }).waitFor({ state: "detached", ...WAIT });
    assert.deepEqual(
      person.errors.filter((error) => !/status of 4\d\d|net::ERR_/.test(error)),
      [],
    );
  },
);
