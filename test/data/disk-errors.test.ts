// The content store on a disk that fails: a write that fails with EIO, ENOSPC
// or EDQUOT while the next chunk is still on its way (the path that used to
// end the process with an unhandled rejection), alone and among concurrent
// uploads that succeed. Each failure is a clear error for its own upload, the
// file aside is gone, the others are stored. Also: folders 0700 and files
// 0600 whatever the umask, and stored files of an older version tightened.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, open, readdir, rm, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import { ContentStore } from "../../src/data/storage/content-store.ts";
import { sha256 } from "./helpers/cluster-files.ts";

async function* slowChunks(bytes: Uint8Array, size = 32 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) {
    yield bytes.subarray(i, i + size);
    // The network is slower than the disk: the failing write settles meanwhile.
    await delay(5);
  }
}

// A file handle whose writes fail with `errno` once `failAfter` bytes are written.
function failingDisk(errno: string, failAfter: number): (path: string) => Promise<FileHandle> {
  return async (path) => {
    const handle = await open(path, "wx", 0o600);
    let written = 0;
    const write = handle.write.bind(handle) as (...args: unknown[]) => Promise<unknown>;
    (handle as unknown as { write: (...args: unknown[]) => Promise<unknown> }).write = async (
      ...args: unknown[]
    ) => {
      if (written >= failAfter) {
        throw Object.assign(new Error(`${errno}: simulated disk failure, write`), { code: errno });
      }
      const result = (await write(...args)) as { bytesWritten: number };
      written += result.bytesWritten;
      return result;
    };
    return handle;
  };
}

void describe("content store on a failing disk", () => {
  let root: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "albumshare-disk-errors-"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const cases: [string, ErrorCode, RegExp][] = [
    ["EIO", ErrorCode.Internal, /disk failed \(EIO\).*was not stored/],
    ["ENOSPC", ErrorCode.ResourceExhausted, /disk is full.*was not stored/],
    ["EDQUOT", ErrorCode.ResourceExhausted, /disk is full.*was not stored/],
  ];
  for (const [errno, code, message] of cases) {
    void test(`${errno} midway: a clear error, nothing left aside, nothing stored`, async () => {
      const dir = join(root, errno);
      const store = new ContentStore({
        dir,
        reserveBytes: 0,
        openForWrite: failingDisk(errno, 64 * 1024),
      });
      await store.open();
      const bytes = randomBytes(300_000);
      const key = sha256(bytes);
      await assert.rejects(store.write(key, bytes.length, slowChunks(bytes)), (error: unknown) => {
        assert.ok(error instanceof AlbumError);
        assert.equal(error.code, code);
        assert.match(error.message, message);
        return true;
      });
      assert.equal(await store.stat(key), undefined);
      assert.deepEqual(await readdir(join(dir, "tmp")), []);
      assert.deepEqual(store.usage(), { keys: 0, bytes: 0 });
    });
  }

  void test("concurrent uploads: the failing ones get their error, the others are stored", async () => {
    const dir = join(root, "concurrent");
    let opened = 0;
    const good = (path: string): Promise<FileHandle> => open(path, "wx", 0o600);
    const store = new ContentStore({
      dir,
      reserveBytes: 0,
      // Every other upload lands on a "bad sector".
      openForWrite: (path) => (opened++ % 2 === 0 ? failingDisk("EIO", 40_000)(path) : good(path)),
    });
    await store.open();
    const contents = Array.from({ length: 8 }, (_, i) => randomBytes(100_000 + i));
    const results = await Promise.allSettled(
      contents.map((bytes) => store.write(sha256(bytes), bytes.length, slowChunks(bytes))),
    );
    const failed = results.filter((r) => r.status === "rejected");
    const stored = results.filter((r) => r.status === "fulfilled");
    assert.equal(failed.length, 4);
    assert.equal(stored.length, 4);
    for (const r of failed) {
      assert.equal(((r as PromiseRejectedResult).reason as AlbumError).code, ErrorCode.Internal);
    }
    for (const [i, r] of results.entries()) {
      const held = await store.stat(sha256(contents[i]!));
      assert.equal(held, r.status === "fulfilled" ? contents[i]!.length : undefined);
    }
    assert.deepEqual(await readdir(join(dir, "tmp")), []);
    assert.equal(store.usage().keys, 4);
  });

  void test("folders 0700 and files 0600 whatever the umask; older files are tightened", async () => {
    const dir = join(root, "modes");
    const previous = process.umask(0);
    try {
      const store = new ContentStore({ dir, reserveBytes: 0 });
      await store.open();
      const bytes = randomBytes(1000);
      const key = sha256(bytes);
      await store.write(key, bytes.length, slowChunks(bytes));
      const file = join(dir, "objects", key.slice(0, 2), key);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      for (const folder of [
        dir,
        join(dir, "objects"),
        join(dir, "tmp"),
        join(dir, "objects", "ab"),
      ])
        assert.equal((await stat(folder)).mode & 0o777, 0o700, folder);
      // As an older version left them: world-readable.
      await chmod(file, 0o644);
      await chmod(join(dir, "objects"), 0o755);
      await new ContentStore({ dir, reserveBytes: 0 }).open();
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal((await stat(join(dir, "objects"))).mode & 0o777, 0o700);
    } finally {
      process.umask(previous);
    }
  });
});
