// The content store on its own (no sockets): verified writes, dedup,
// concurrent uploads of one key, refusals that leave nothing behind, crash
// leftovers, and a real full disk (a small tmpfs, when this runner may mount).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import { ContentStore } from "../../src/data/storage/content-store.ts";

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

async function* chunksOf(bytes: Uint8Array, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function readAll(store: ContentStore, key: string, offset = 0): Promise<Buffer> {
  const content = await store.read(key, offset);
  const parts: Buffer[] = [];
  for await (const chunk of content.chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

async function rejectsWith(
  promise: Promise<unknown>,
  code: ErrorCode,
  pattern?: RegExp,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AlbumError, `expected an AlbumError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

void describe("content store", () => {
  let dir: string;
  let store: ContentStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "albumshare-store-"));
    store = new ContentStore({ dir, reserveBytes: 0 });
    await store.open();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void test("stores a verified content under its key and reads it back, also from an offset", async () => {
    const bytes = randomBytes(300_000);
    const key = sha256(bytes);
    assert.equal(await store.write(key, bytes.length, chunksOf(bytes)), "stored");
    assert.equal(await store.stat(key), bytes.length);
    assert.deepEqual(await readAll(store, key), bytes);
    assert.deepEqual(await readAll(store, key, 123_456), bytes.subarray(123_456));
    assert.deepEqual(await readAll(store, key, bytes.length), Buffer.alloc(0));
    assert.equal(await store.write(key, bytes.length, chunksOf(bytes)), "already_present");
    assert.ok((await readdir(join(dir, "objects", key.slice(0, 2)))).includes(key));
  });

  void test("an empty content is a content", async () => {
    const key = sha256(new Uint8Array(0));
    assert.equal(await store.write(key, 0, chunksOf(new Uint8Array(0))), "stored");
    assert.equal(await store.stat(key), 0);
  });

  void test("content that does not hash to its key, or has another size, is refused and leaves nothing", async () => {
    const bytes = randomBytes(10_000);
    const wrongKey = sha256(randomBytes(10));
    await rejectsWith(
      store.write(wrongKey, bytes.length, chunksOf(bytes)),
      ErrorCode.InvalidArgument,
      /does not hash/,
    );
    const key = sha256(bytes);
    await rejectsWith(
      store.write(key, bytes.length + 1, chunksOf(bytes)),
      ErrorCode.InvalidArgument,
      /ended after/,
    );
    await rejectsWith(
      store.write(key, bytes.length - 1, chunksOf(bytes)),
      ErrorCode.InvalidArgument,
      /more than/,
    );
    assert.equal(await store.stat(wrongKey), undefined);
    assert.equal(await store.stat(key), undefined);
    assert.deepEqual(await readdir(join(dir, "tmp")), []);
  });

  void test("an upload cut off midway leaves nothing", async () => {
    const bytes = randomBytes(200_000);
    const key = sha256(bytes);
    async function* brokenStream(): AsyncGenerator<Uint8Array> {
      yield bytes.subarray(0, 50_000);
      throw new AlbumError(ErrorCode.Unavailable, "client went away");
    }
    await rejectsWith(store.write(key, bytes.length, brokenStream()), ErrorCode.Unavailable);
    assert.equal(await store.stat(key), undefined);
    assert.deepEqual(await readdir(join(dir, "tmp")), []);
  });

  void test("malformed keys and path traversal are refused before touching the disk", async () => {
    const bad = [
      "",
      "../../etc/passwd",
      `../${"a".repeat(61)}`,
      "A".repeat(64),
      "g".repeat(64),
      `${"a".repeat(63)}/`,
      "a".repeat(65),
    ];
    for (const key of bad) {
      await rejectsWith(store.stat(key), ErrorCode.InvalidArgument);
      await rejectsWith(store.read(key), ErrorCode.InvalidArgument);
      await rejectsWith(
        store.write(key, 0, chunksOf(new Uint8Array(0))),
        ErrorCode.InvalidArgument,
      );
    }
  });

  void test("concurrent uploads of one key store it once", async () => {
    const bytes = randomBytes(500_000);
    const key = sha256(bytes);
    const before = store.usage();
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () => store.write(key, bytes.length, chunksOf(bytes, 7_000))),
    );
    assert.equal(outcomes.filter((o) => o === "stored").length, 1);
    assert.equal(outcomes.filter((o) => o === "already_present").length, 5);
    assert.deepEqual(store.usage(), { keys: before.keys + 1, bytes: before.bytes + bytes.length });
    assert.deepEqual(await readAll(store, key), bytes);
    assert.deepEqual(await readdir(join(dir, "tmp")), []);
  });

  void test("an announced size larger than the free space is refused before writing", async () => {
    const key = sha256(randomBytes(8));
    await rejectsWith(
      store.write(key, 2 ** 52, chunksOf(new Uint8Array(0))),
      ErrorCode.ResourceExhausted,
      /nothing stored/,
    );
  });

  void test("reopening removes crash leftovers and recounts keys and bytes", async () => {
    await writeFile(join(dir, "tmp", `${"ab".repeat(32)}.1.x.part`), "half an upload");
    const usage = store.usage();
    const reopened = new ContentStore({ dir, reserveBytes: 0 });
    assert.deepEqual(await reopened.open(), { leftovers: 1 });
    assert.deepEqual(reopened.usage(), usage);
    assert.deepEqual(await readdir(join(dir, "tmp")), []);
  });

  void test("delete removes a content and its count", async () => {
    const bytes = randomBytes(1000);
    const key = sha256(bytes);
    await store.write(key, bytes.length, chunksOf(bytes));
    const usage = store.usage();
    assert.equal(await store.delete(key), 1000);
    assert.equal(await store.delete(key), undefined);
    assert.deepEqual(store.usage(), { keys: usage.keys - 1, bytes: usage.bytes - 1000 });
    await rejectsWith(store.read(key), ErrorCode.NotFound);
  });
});

// A real ENOSPC needs a small file system; mounting one needs privileges that
// some runners lack, and then this one case cannot run there.
function mountSmallTmpfs(path: string): boolean {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", path], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

void describe("content store on a full disk", () => {
  let dir: string;
  let mounted = false;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "albumshare-full-"));
    await mkdir(dir, { recursive: true });
    mounted = process.platform === "linux" && mountSmallTmpfs(dir);
  });
  after(async () => {
    if (mounted) execFileSync("umount", [dir]);
    await rm(dir, { recursive: true, force: true });
  });

  void test("a disk that fills up during an upload gives resource exhausted and stores nothing", async (t) => {
    if (!mounted) {
      t.skip("cannot mount a small tmpfs here (needs root)");
      return;
    }
    const store = new ContentStore({ dir, reserveBytes: 0 });
    await store.open();
    const bytes = randomBytes(900 * 1024);
    const key = sha256(bytes);
    // Fill most of the disk behind the store's back, after its free-space check.
    async function* fillingStream(): AsyncGenerator<Uint8Array> {
      await writeFile(join(dir, "filler"), randomBytes(600 * 1024));
      yield* chunksOf(bytes);
    }
    await rejectsWith(
      store.write(key, bytes.length, fillingStream()),
      ErrorCode.ResourceExhausted,
      /disk is full/,
    );
    assert.equal(await store.stat(key), undefined);
    assert.deepEqual(await readdir(join(dir, "tmp")), []);
    assert.deepEqual(store.usage(), { keys: 0, bytes: 0 });
  });
});
