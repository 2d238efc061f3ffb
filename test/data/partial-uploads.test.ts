// The cut-off uploads a data server keeps for resuming, on their own: a
// stream that breaks keeps what arrived, a resume continues it and the whole
// is verified, and the partials stay within their count, bytes and age
// whatever sequence of cut-off uploads arrives (fast-check).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { ContentStore } from "../../src/data/storage/content-store.ts";
import { PartialUploads } from "../../src/data/storage/partial-uploads.ts";
import { ensurePrivateDir } from "../../src/common/private-files.ts";

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

async function* cutAfter(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
  throw new Error("the stream was cancelled");
}

async function* chunksOf(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

void describe("partial uploads", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "albumshare-partials-"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  void test("a broken stream keeps what arrived; the resume stores the verified whole", async () => {
    const store = new ContentStore({ dir: join(root, "store"), reserveBytes: 0 });
    await store.open();
    const bytes = randomBytes(300_000);
    const key = sha256(bytes);
    await assert.rejects(store.write(key, bytes.length, cutAfter(bytes.subarray(0, 100_000))));
    assert.deepEqual(await store.heldPartial(key), {
      size: 100_000,
      sha256: sha256(bytes.subarray(0, 100_000)),
    });
    assert.equal(await store.stat(key), undefined, "a partial is never content");
    // A resume at another offset is refused and leaves the partial.
    await assert.rejects(store.write(key, bytes.length, chunksOf(bytes.subarray(5)), 5));
    assert.equal((await store.heldPartial(key))?.size, 100_000);
    assert.equal(
      await store.write(key, bytes.length, chunksOf(bytes.subarray(100_000)), 100_000),
      "stored",
    );
    assert.equal(await store.stat(key), bytes.length);
    assert.equal(await store.heldPartial(key), undefined);
  });

  void test("count and bytes stay bounded and old partials expire", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 5_000 }), { minLength: 1, maxLength: 12 }),
        async (sizes) => {
          const dir = await mkdtemp(join(root, "bounds-"));
          let now = Date.now();
          const limits = { maxCount: 3, maxBytes: 8_000, ttlMs: 60_000 };
          const partials = new PartialUploads(dir, limits, () => now);
          await partials.open();
          ensurePrivateDir(join(dir, "tmp"));
          for (const [i, size] of sizes.entries()) {
            const bytes = randomBytes(size);
            const aside = join(dir, "tmp", `aside-${i}`);
            await writeFile(aside, bytes);
            await partials.keep(sha256(Buffer.from([i])), sha256(bytes), aside);
            const names = await readdir(join(dir, "partial"));
            let total = 0;
            for (const name of names) total += (await stat(join(dir, "partial", name))).size;
            assert.ok(names.length <= limits.maxCount, `${names.length} partials`);
            assert.ok(total <= limits.maxBytes, `${total} bytes of partials`);
          }
          now = Date.now() + limits.ttlMs + 1_000;
          assert.equal(await partials.held(sha256(Buffer.from([sizes.length - 1]))), undefined);
          assert.deepEqual(await readdir(join(dir, "partial")), []);
        },
      ),
      { numRuns: 25 },
    );
  });
});
