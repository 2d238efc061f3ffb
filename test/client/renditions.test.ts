// Renditions of an added file: an image gets a 256 px thumbnail and a
// 1440 px preview (WebP, upright, never enlarged), its pixel size and EXIF
// date; a video gets them from its poster frame; other files get none; a
// broken image is added without renditions. Uploads go to an in-memory
// content store that hashes what it receives.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import sharp from "sharp";
import { silentLogger } from "../../src/common/logger.ts";
import { fileMediaMaker } from "../../src/client/renditions/file-media-maker.ts";
import type { ContentTransfer } from "../../src/client/session/content-transfer.ts";
import { testJpeg } from "../web/helpers/test-media.ts";

const dir = mkdtempSync(join(tmpdir(), "albumshare-renditions-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function memoryTransfer(): ContentTransfer & { stored: Map<string, Buffer> } {
  const stored = new Map<string, Buffer>();
  return {
    stored,
    async upload(path) {
      const bytes = await readFile(path);
      const key = createHash("sha256").update(bytes).digest("hex");
      stored.set(key, bytes);
      return { key, size: bytes.length, alreadyPresent: false };
    },
    download: () => Promise.reject(new Error("not used")),
    close() {},
  };
}

const make = fileMediaMaker(silentLogger());

test("an image gets a thumbnail, a preview, its size and its EXIF date", async () => {
  const path = join(dir, "photo.jpg");
  const jpeg = await sharp(await testJpeg(3000, 2000, 1))
    .withExif({ IFD0: { Make: "test" }, IFD2: { DateTimeOriginal: "2024:07:14 10:30:00" } })
    .toBuffer();
  writeFileSync(path, jpeg);
  const transfer = memoryTransfer();
  const media = await make({ path, name: "photo.jpg" }, transfer);
  assert.equal(media.kind, "image");
  assert.equal(media.width, 3000);
  assert.equal(media.height, 2000);
  assert.equal(new Date(media.takenAt!).getFullYear(), 2024);
  const thumbnail = await sharp(transfer.stored.get(media.thumbnailKey!)!).metadata();
  const preview = await sharp(transfer.stored.get(media.previewKey!)!).metadata();
  assert.deepEqual([thumbnail.format, thumbnail.width, thumbnail.height], ["webp", 256, 171]);
  assert.deepEqual([preview.format, preview.width, preview.height], ["webp", 1440, 960]);
});

test("a small image is not enlarged; a portrait EXIF orientation is turned upright", async () => {
  const path = join(dir, "small.jpg");
  writeFileSync(
    path,
    await sharp(await testJpeg(200, 100, 2))
      .withMetadata({ orientation: 6 })
      .toBuffer(),
  );
  const transfer = memoryTransfer();
  const media = await make({ path, name: "small.jpg" }, transfer);
  assert.deepEqual([media.width, media.height], [100, 200]);
  const thumbnail = await sharp(transfer.stored.get(media.thumbnailKey!)!).metadata();
  assert.deepEqual([thumbnail.width, thumbnail.height], [100, 200]);
});

test("a video takes its renditions from the poster frame; other files get none", async () => {
  const video = join(dir, "clip.webm");
  writeFileSync(video, "not really a video");
  const poster = join(dir, "poster.png");
  writeFileSync(
    poster,
    await sharp(await testJpeg(320, 240, 3))
      .png()
      .toBuffer(),
  );
  const transfer = memoryTransfer();
  const withPoster = await make({ path: video, name: "clip.webm", posterPath: poster }, transfer);
  assert.equal(withPoster.kind, "video");
  assert.equal(withPoster.width, 320);
  assert.equal(withPoster.takenAt, undefined);
  assert.ok(withPoster.thumbnailKey && transfer.stored.has(withPoster.thumbnailKey));
  const bare = await make({ path: video, name: "clip.webm" }, transfer);
  assert.deepEqual(Object.keys(bare).sort(), ["addedAt", "kind"]);
  const other = await make({ path: video, name: "notes.txt" }, transfer);
  assert.equal(other.kind, "file");
  assert.equal(other.thumbnailKey, undefined);
});

test("a broken image is added without renditions", async () => {
  const path = join(dir, "broken.jpg");
  writeFileSync(path, Buffer.from("\xff\xd8 this is not a jpeg"));
  const transfer = memoryTransfer();
  const media = await make({ path, name: "broken.jpg" }, transfer);
  assert.equal(media.kind, "image");
  assert.equal(media.thumbnailKey, undefined);
  assert.equal(transfer.stored.size, 0);
});
