// Web app benchmark, each figure beside a baseline from the same run:
// - renditions of a 12 MP JPEG (thumbnail + preview + metadata + EXIF) next
//   to sharp making the same two WebP files bare (like with like: same sizes,
//   same qualities, both at once), and next to a bare thumbnail alone;
// - the first screen of thumbnails of a 1,000-photo album in Chromium (page
//   navigation until every thumbnail in the viewport has loaded), cold (empty
//   content cache) and warm, next to the same browser loading a static page
//   of 1,000 lazy images of the same bytes from a bare node:http server;
// - from an add in one page (file picker) to the thumbnail loaded in another
//   person's page, next to the same add through the client library alone
//   (upload, renditions, delta; no browser and no web server).
// Real processes on loopback: central server, 2 data servers, `albumshare web`.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import sharp from "sharp";
import { CentralClient } from "../src/client/central-client.ts";
import {
  makeImageRenditions,
  PREVIEW_PIXELS,
  THUMBNAIL_PIXELS,
} from "../src/client/renditions/image-renditions.ts";
import { AlbumSession } from "../src/client/session/album-session.ts";
import { LocalSystem } from "../test/session/helpers/local-system.ts";
import { browserSkipReason, PersonBrowser } from "../test/web/helpers/browser.ts";
import { WebProcess } from "../test/web/helpers/web-process.ts";
import { testJpeg } from "../test/web/helpers/test-media.ts";
import type { Benchmark, BenchRow } from "./harness.ts";

const ALBUM_PHOTOS = 1000;
const RENDITION_RUNS = 5;
const ADD_RUNS = 5;

// The few DOM members the page functions use (this file compiles without the
// DOM library). Functions, not strings: the page's CSP forbids eval.
interface PageImage {
  alt: string;
  complete: boolean;
  naturalWidth: number;
  getBoundingClientRect(): { top: number; bottom: number };
}
interface PageGlobal {
  document: {
    querySelectorAll(selector: string): Iterable<PageImage>;
    querySelector(
      selector: string,
    ): { textContent: string | null; getBoundingClientRect(): { bottom: number } } | null;
    addEventListener(type: string, listener: () => void, capture: boolean): void;
  };
  innerHeight: number;
  performance: { now(): number; timeOrigin: number };
  /** When the person picked the file (set by a listener the benchmark adds). */
  albumsharePicked?: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

async function renditionRows(dir: string): Promise<BenchRow[]> {
  const path = join(dir, "12mp.jpg");
  // Noise, so the encoder works as on a real photo rather than on a flat colour.
  const noise = await sharp({
    create: {
      width: 4000,
      height: 3000,
      channels: 3,
      background: "#808080",
      noise: { type: "gaussian", mean: 128, sigma: 40 },
    },
  })
    .jpeg({ quality: 90 })
    .toBuffer();
  writeFileSync(path, noise);
  const ours: number[] = [];
  const bareBoth: number[] = [];
  const bareThumbnail: number[] = [];
  const bareWebp = (pixels: number, quality: number): Promise<Buffer> =>
    sharp(path).resize(pixels, pixels, { fit: "inside" }).webp({ quality }).toBuffer();
  for (let run = 0; run < RENDITION_RUNS; run++) {
    ours.push(await timed(() => makeImageRenditions(path)));
    bareBoth.push(
      await timed(() =>
        Promise.all([bareWebp(THUMBNAIL_PIXELS, 70), bareWebp(PREVIEW_PIXELS, 80)]),
      ),
    );
    bareThumbnail.push(await timed(() => bareWebp(THUMBNAIL_PIXELS, 80)));
  }
  return [
    {
      name: "thumbnail+preview+metadata of a 12 MP JPEG (median of 5)",
      value: median(ours),
      unit: "ms",
      baseline: median(bareBoth),
      baselineName: "sharp's bare 256 px + 1440 px WebP, both at once",
      goal: "< 1.5x baseline",
    },
    {
      name: "the same, next to a thumbnail alone",
      value: median(ours),
      unit: "ms",
      baseline: median(bareThumbnail),
      baselineName: "sharp's bare resize to 256 px WebP",
    },
  ];
}

async function fillAlbum(system: LocalSystem, dir: string): Promise<void> {
  const central = await CentralClient.connect({ address: system.central });
  await central.register("bench-alice", "bench-alice-password").catch(() => {});
  await central.login("bench-alice", "bench-alice-password");
  await central.createAlbum("thousand");
  const album = await AlbumSession.open({
    central,
    album: "thousand",
    user: "bench-alice",
    peer: { bindHost: "127.0.0.1", bindPort: 0 },
  });
  await album.addUser("bench-bob");
  await album.addUser("bench-carol");
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ALBUM_PHOTOS) {
      const index = next++;
      const path = join(dir, `photo-${String(index).padStart(4, "0")}.jpg`);
      writeFileSync(path, await testJpeg(320, 240, index + 1));
      await album.addFile(path);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  await album.close();
  central.close();
}

/**
 * A full navigation (from a blank page, so the time origin is this load and
 * not an earlier one: a change of the URL's fragment alone would keep the
 * document), then ms from its start until the first screen of the gallery is
 * full and every thumbnail on it has loaded. "Full": the thumbnails reach the
 * bottom edge of the viewport, or every file has its thumbnail; and, when
 * `countText` is given, the page says how many files there are.
 */
async function firstScreen(
  browser: PersonBrowser,
  url: string,
  selector: string,
  total: number,
  countText?: string,
): Promise<number> {
  const page = browser.page;
  await page.goto("about:blank");
  await page.goto(url, { waitUntil: "commit" });
  // The page notes the moment itself: reading the clock in a later call would add a round trip.
  const met = await page.waitForFunction(
    ({ selector, total, countText }) => {
      // Runs in the page (serialized by playwright): nothing from outside.
      const page = globalThis as unknown as PageGlobal;
      if (countText !== undefined) {
        const count = page.document.querySelector(".file-count");
        if (count?.textContent !== countText) return false;
      }
      const images = [...page.document.querySelectorAll(selector)];
      const onScreen = images.filter((img) => {
        const box = img.getBoundingClientRect();
        return box.top < page.innerHeight && box.bottom > 0;
      });
      if (onScreen.length === 0) return false;
      if (!onScreen.every((img) => img.complete && img.naturalWidth > 0)) return false;
      const grid = page.document.querySelector(selector.split(" ")[0]!);
      const full =
        images.length >= total || (grid?.getBoundingClientRect().bottom ?? 0) >= page.innerHeight;
      return full ? page.performance.now() : false;
    },
    { selector, total, countText },
    { timeout: 120_000, polling: "raf" },
  );
  return (await met.jsonValue()) as number;
}

/** Where a page load's time went (stderr only): resource timings of the page, ms from navigation start. */
async function loadBreakdown(browser: PersonBrowser): Promise<string> {
  // Only plain data crosses into the page: computed here.
  const entries = await browser.page.evaluate(() =>
    (
      globalThis as unknown as {
        performance: {
          getEntriesByType(
            type: string,
          ): { name: string; requestStart: number; responseEnd: number }[];
        };
      }
    ).performance
      .getEntriesByType("resource")
      .map(({ name, requestStart, responseEnd }) => ({ name, requestStart, responseEnd })),
  );
  const lines: string[] = [];
  for (const part of ["/app.js", "/api/me"]) {
    const entry = entries.find((candidate) => candidate.name.endsWith(part));
    if (entry)
      lines.push(`${part} ${Math.round(entry.requestStart)}-${Math.round(entry.responseEnd)}`);
  }
  const thumbnails = entries.filter((entry) => entry.name.includes("/thumbnail"));
  if (thumbnails.length > 0) {
    const first = Math.min(...thumbnails.map((entry) => entry.requestStart));
    const last = Math.max(...thumbnails.map((entry) => entry.responseEnd));
    lines.push(`${thumbnails.length} thumbnails ${Math.round(first)}-${Math.round(last)}`);
  }
  return lines.join(", ");
}

async function staticBaseline(browser: PersonBrowser, thumbnail: Buffer): Promise<number> {
  const html = `<!doctype html><link rel="stylesheet" href="/s.css"><ul class="gallery">${Array.from(
    { length: ALBUM_PHOTOS },
    (_, i) =>
      `<li><img src="/t/${i}.webp" alt="photo ${i}" loading="lazy" width="256" height="256"></li>`,
  ).join("")}</ul>`;
  const css =
    ".gallery{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:.5rem}img{width:100%;height:auto}";
  const server = createServer((request, response) => {
    if (request.url === "/") response.writeHead(200, { "Content-Type": "text/html" }).end(html);
    else if (request.url === "/s.css")
      response.writeHead(200, { "Content-Type": "text/css" }).end(css);
    else
      response
        .writeHead(200, { "Content-Type": "image/webp", "Cache-Control": "no-store" })
        .end(thumbnail);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    return await firstScreen(browser, `http://127.0.0.1:${port}/`, ".gallery img", ALBUM_PHOTOS);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

async function login(browser: PersonBrowser, base: string, name: string): Promise<void> {
  const page = browser.page;
  await page.goto(base);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Password").fill(`${name}-password`);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: `${name}'s albums` }).waitFor();
}

async function browserRows(dir: string): Promise<BenchRow[]> {
  const system = await LocalSystem.start(2);
  let web: WebProcess | undefined;
  const browsers: PersonBrowser[] = [];
  try {
    const others = await CentralClient.connect({ address: system.central });
    await others.register("bench-bob", "bench-bob-password");
    await others.register("bench-carol", "bench-carol-password");
    others.close();
    await fillAlbum(system, dir);
    web = await WebProcess.start(system.central, dir);
    const base = `${web.origin}/`;
    const alice = await PersonBrowser.launch();
    const bob = await PersonBrowser.launch();
    browsers.push(alice, bob);
    await login(alice, base, "bench-alice");
    await login(bob, base, "bench-bob");
    const albumUrl = `${base}#/album/thousand`;
    const countText = `${ALBUM_PHOTOS} files`;
    const cold = await firstScreen(alice, albumUrl, ".gallery img", ALBUM_PHOTOS, countText);
    const coldParts = await loadBreakdown(alice);
    const warm = await firstScreen(alice, albumUrl, ".gallery img", ALBUM_PHOTOS, countText);
    const warmParts = await loadBreakdown(alice);
    const thumbnail = (await makeImageRenditions(join(dir, "photo-0000.jpg"))).thumbnail;
    const baseline = await staticBaseline(bob, thumbnail);
    process.stderr.write(
      `web bench: first screen cold ${Math.round(cold)} ms (${coldParts}), warm ${Math.round(warm)} ms (${warmParts}), static ${Math.round(baseline)} ms\n`,
    );

    // Add-to-thumbnail: alice adds by the picker, bob's page shows the thumbnail.
    // Where each add's time goes (stderr only): moments seen by the browsers, ms from the add.
    const moments = new Map<string, number>();
    let addStart = 0;
    const mark = (name: string): void => {
      if (!moments.has(name)) moments.set(name, Math.round(performance.now() - addStart));
    };
    alice.page.on("response", (response) => {
      const path = new URL(response.url()).pathname;
      if (path === "/api/uploads") mark("staged");
      else if (path.endsWith("/files") && response.request().method() === "POST") mark("added");
    });
    bob.page.on("websocket", (socket) =>
      socket.on("framereceived", () => mark("bob's live message")),
    );
    bob.page.on("request", (request) => {
      if (request.url().includes("/thumbnail")) mark("bob asks the thumbnail");
    });
    bob.page.on("requestfinished", (request) => {
      if (request.url().includes("/thumbnail")) mark("bob has the thumbnail");
    });
    await alice.page.goto(albumUrl);
    await alice.page.getByText("live", { exact: true }).waitFor();
    // The moment of the pick, in the page's own clock (before the page's own handler runs).
    await alice.page.evaluate(() => {
      const page = globalThis as unknown as PageGlobal;
      page.document.addEventListener(
        "change",
        () => (page.albumsharePicked = page.performance.timeOrigin + page.performance.now()),
        true,
      );
    });
    await bob.page.goto(albumUrl);
    await bob.page.getByText("live", { exact: true }).waitFor();
    const adds: number[] = [];
    for (let run = 0; run < ADD_RUNS; run++) {
      const name = `added-${run}.jpg`;
      const buffer = await testJpeg(640, 480, 5000 + run);
      moments.clear();
      const start = performance.now();
      addStart = start;
      await alice.page
        .getByLabel("Add photos and videos")
        .setInputFiles({ name, mimeType: "image/jpeg", buffer });
      const shown = await bob.page.waitForFunction(
        (alt) => {
          const page = globalThis as unknown as PageGlobal;
          const images = [...page.document.querySelectorAll(".gallery img")];
          const img = images.find((candidate) => candidate.alt === alt);
          const loaded = img !== undefined && img.complete && img.naturalWidth > 0;
          return loaded ? page.performance.timeOrigin + page.performance.now() : false;
        },
        name,
        { timeout: 60_000, polling: "raf" },
      );
      // Both pages' clocks are this machine's wall clock: from alice's pick to bob's thumbnail.
      const picked = await alice.page.evaluate(
        () => (globalThis as unknown as PageGlobal).albumsharePicked ?? Number.NaN,
      );
      adds.push(((await shown.jsonValue()) as number) - picked);
      mark("bob's page shows it");
      process.stderr.write(
        `web bench: add ${run}: ${[...moments].map(([name, ms]) => `${name} ${ms}`).join(", ")}\n`,
      );
    }
    // The same add through the client library alone, in this process (carol: bob's page holds his slot).
    const central = await CentralClient.connect({ address: system.central });
    await central.login("bench-carol", "bench-carol-password");
    const album = await AlbumSession.open({
      central,
      album: "thousand",
      user: "bench-carol",
      peer: { bindHost: "127.0.0.1", bindPort: 0 },
    });
    const library: number[] = [];
    for (let run = 0; run < ADD_RUNS; run++) {
      const path = join(dir, `library-${run}.jpg`);
      writeFileSync(path, await testJpeg(640, 480, 6000 + run));
      library.push(await timed(() => album.addFile(path)));
    }
    await album.close();
    central.close();
    return [
      {
        name: `first screen of thumbnails, ${ALBUM_PHOTOS}-photo album, cold cache`,
        value: cold,
        unit: "ms",
        baseline,
        baselineName: "static page of 1,000 lazy images, same browser",
        goal: "< 1000 ms",
      },
      {
        name: `first screen of thumbnails, ${ALBUM_PHOTOS}-photo album, warm cache`,
        value: warm,
        unit: "ms",
        baseline,
        baselineName: "static page of 1,000 lazy images, same browser",
        goal: "< 1000 ms",
      },
      {
        name: "add in one page to thumbnail in another (median of 5)",
        value: median(adds),
        unit: "ms",
        baseline: median(library),
        baselineName: "addFile through the client library alone",
        goal: "< 500 ms",
      },
    ];
  } finally {
    for (const browser of browsers) await browser.close();
    await web?.stop();
    await system.stop();
  }
}

const benchmark: Benchmark = {
  id: "web",
  title: "Web app: renditions, first screen of thumbnails, add-to-thumbnail across pages",
  async run() {
    const dir = mkdtempSync(join((await import("node:os")).tmpdir(), "albumshare-web-bench-"));
    const rows = await renditionRows(dir);
    const skip = browserSkipReason();
    if (skip) {
      process.stderr.write(`web bench: browser figures skipped: ${skip}\n`);
      return rows;
    }
    return [...rows, ...(await browserRows(dir))];
  },
};
export default benchmark;
