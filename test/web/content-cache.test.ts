// The content cache stays within its bound (least recently used out), never
// evicts what is being read, fetches a content once for concurrent readers,
// and leaves nothing behind when a fetch fails.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ContentCache } from "../../src/web/content-cache.ts";

const key = (n: number): string => n.toString(16).padStart(64, "0");

async function withCache(
  maxBytes: number,
  body: (cache: ContentCache, dir: string, fetches: string[]) => Promise<void>,
) {
  const root = mkdtempSync(join(tmpdir(), "albumshare-cache-"));
  const dir = join(root, "cache");
  const cache = new ContentCache({ dir, maxBytes });
  await cache.start();
  try {
    await body(cache, dir, []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test("least recently used contents go first, within the bound", async () => {
  await withCache(300, async (cache, dir, fetches) => {
    const fetch = async (k: string, path: string) => {
      fetches.push(k);
      await writeFile(path, Buffer.alloc(100));
    };
    for (const n of [1, 2, 3]) (await cache.open(key(n), fetch)).release();
    (await cache.open(key(1), fetch)).release(); // 1 is now the most recent
    (await cache.open(key(4), fetch)).release(); // evicts 2, the least recent
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(cache.totalBytes <= 300);
    assert.deepEqual(readdirSync(dir).sort(), [key(1), key(3), key(4)].sort());
    assert.deepEqual(fetches, [key(1), key(2), key(3), key(4)]);
  });
});

test("a content being read is never evicted; it goes once released", async () => {
  await withCache(100, async (cache, dir) => {
    const fetch = (_: string, path: string) => writeFile(path, Buffer.alloc(100));
    const held = await cache.open(key(1), fetch);
    (await cache.open(key(2), fetch)).release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(existsSync(held.path), "a held content was evicted");
    held.release();
    (await cache.open(key(3), fetch)).release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(!existsSync(held.path));
    assert.ok(cache.totalBytes <= 100);
    assert.equal(readdirSync(dir).length, 1);
  });
});

test("concurrent readers share one fetch; a failed fetch leaves no entry", async () => {
  await withCache(1000, async (cache, _dir, fetches) => {
    const fetch = async (k: string, path: string) => {
      fetches.push(k);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await writeFile(path, "abc");
    };
    const readers = await Promise.all([1, 2, 3].map(() => cache.open(key(7), fetch)));
    assert.equal(fetches.length, 1);
    for (const reader of readers) reader.release();
    await assert.rejects(cache.open(key(8), () => Promise.reject(new Error("unverified"))));
    assert.equal(cache.entryCount, 1);
    await assert.rejects(cache.open("../etc/passwd", fetch));
  });
});
