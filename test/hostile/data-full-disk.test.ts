// Observations 6 and 9 of issue 10 with real processes. A data server on a
// small tmpfs (mounted by the test when it may; skipped with the reason
// otherwise) receives concurrent uploads larger than its disk together: each
// upload is stored or refused with a clear "disk is full", nothing half-written
// stays, the server keeps serving, refuses while the disk is full and stores
// again once space is freed. And a new server whose disk cannot hold anything
// beyond its reserve says so at start and does not join the ring.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, open, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClusterRingSource } from "../../src/client/data-transfer/cluster-ring-source.ts";
import { DataTransferClient } from "../../src/client/data-transfer/data-transfer-client.ts";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import { UNHANDLED_REJECTION_MESSAGE } from "../../src/common/unhandled-rejections.ts";
import { makeFile, sha256OfPath, type TestFile } from "../data/helpers/cluster-files.ts";
import {
  dataServerReady,
  spawnDataServer,
  startCoordinator,
  TEST_CLUSTER_TOKEN,
  type FixtureProcess,
  type StartedDataServer,
} from "../data/helpers/process-harness.ts";
import { residentBytes } from "../support/proc-stats.ts";

const DISK_MIB = 48;
const UPLOAD_MIB = 20;
const MiB = 1024 * 1024;
/** The server's memory bound (an idle server uses ~90 MiB through tsx). */
const RSS_BOUND = 400 * MiB;

function mountTmpfs(path: string): string | undefined {
  if (process.platform !== "linux") return "tmpfs needs Linux";
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${DISK_MIB}m,mode=0700`, "tmpfs", path], {
      stdio: "pipe",
    });
    return undefined;
  } catch (error) {
    return `cannot mount a ${DISK_MIB} MiB tmpfs here (${
      String((error as { stderr?: unknown }).stderr ?? error)
        .trim()
        .split("\n")[0]
    })`;
  }
}

// Writes 1 MiB blocks until the file system is full (bounded by its size).
async function fillUp(path: string): Promise<void> {
  const block = Buffer.alloc(MiB, 1);
  const handle = await open(path, "w");
  try {
    for (let i = 0; i < DISK_MIB; i++) await handle.write(block);
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ENOSPC") throw error;
  } finally {
    await handle.close();
  }
}

void describe("a data server whose disk fills up", { timeout: 180_000 }, () => {
  let root: string;
  let disk: string;
  let skipReason: string | undefined;
  let coordinator: { process: FixtureProcess; address: string };
  let server: StartedDataServer | undefined;
  let ringSource: ClusterRingSource;
  let client: DataTransferClient;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "albumshare-hostile-disk-"));
    disk = join(root, "disk");
    await mkdir(disk);
    skipReason = mountTmpfs(disk);
    coordinator = await startCoordinator(join(root, "central"));
    ringSource = new ClusterRingSource(coordinator.address, TEST_CLUSTER_TOKEN);
    client = new DataTransferClient(ringSource);
    await mkdir(join(root, "files"));
  });

  after(async () => {
    client?.close();
    ringSource?.close();
    await server?.process.stop();
    await coordinator?.process.stop();
    if (skipReason === undefined) execFileSync("umount", [disk]);
    await rm(root, { recursive: true, force: true });
  });

  void test("a new server that cannot store anything beyond its reserve says so and does not join", async () => {
    const refused = spawnDataServer("data-no-room", coordinator.address, join(root, "no-room"), 0, {
      // More than any test machine's free space.
      reserveBytes: 2 ** 52,
    });
    const failed = await refused.waitFor("failed");
    assert.match(
      failed.message as string,
      /^resource exhausted: this data server cannot store anything: its disk has \d+ bytes free and \d+ are kept in reserve \(--reserve\); not joining the cluster$/,
    );
    assert.equal(await refused.exit, 1);
    await ringSource.refresh();
    assert.equal(ringSource.current().nodes.length, 0, "the ring stays without it");
  });

  void test("concurrent uploads larger than the disk: each stored or refused clearly, the server serves on", async (t) => {
    if (skipReason !== undefined) {
      t.skip(skipReason);
      return;
    }
    const dataDir = join(disk, "data");
    server = await dataServerReady(
      spawnDataServer("data-small-disk", coordinator.address, dataDir, 0, { reserveBytes: MiB }),
    );
    await ringSource.refresh();
    const files: TestFile[] = [];
    for (let i = 0; i < 4; i++)
      files.push(await makeFile(join(root, "files"), `big-${i}`, UPLOAD_MIB * MiB + i));
    const results = await Promise.allSettled(files.map((f) => client.upload(f.path)));
    const stored = files.filter((_, i) => results[i]!.status === "fulfilled");
    const refused = results
      .filter((r) => r.status === "rejected")
      .map((r) => (r as PromiseRejectedResult).reason as unknown);
    assert.ok(
      refused.length >= 2,
      `${DISK_MIB} MiB cannot hold 3 uploads of ${UPLOAD_MIB} MiB; ${refused.length} refused`,
    );
    for (const reason of refused) {
      assert.ok(reason instanceof AlbumError);
      assert.equal(reason.code, ErrorCode.ResourceExhausted, reason.message);
      assert.match(reason.message, /disk is full|not enough for/);
    }
    assert.deepEqual(await readdir(join(dataDir, "tmp")), [], "no partial file stays");
    assert.equal(server.process.exited, false);
    assert.ok((await residentBytes(server.process.pid)) < RSS_BOUND, "memory stays bounded");

    // Still serving: what was stored downloads whole; a small upload fits.
    for (const f of stored) {
      const copy = join(root, "files", `${f.key.slice(0, 8)}.copy`);
      await client.download(f.key, copy);
      assert.equal(await sha256OfPath(copy), f.key);
      await rm(copy);
    }
    const small = await makeFile(join(root, "files"), "small", 200_000);
    await client.upload(small.path);

    // Full: a filler beside the store takes the rest; an upload is refused.
    const filler = join(disk, "filler");
    await fillUp(filler);
    const another = await makeFile(join(root, "files"), "another", 2 * MiB);
    await assert.rejects(client.upload(another.path), (error: unknown) => {
      assert.ok(error instanceof AlbumError);
      assert.equal(error.code, ErrorCode.ResourceExhausted);
      return true;
    });
    assert.deepEqual(await readdir(join(dataDir, "tmp")), []);
    // Space freed: it stores again, and everything acknowledged reads back.
    await rm(filler);
    await client.upload(another.path);
    for (const f of [...stored, small, another]) {
      const copy = join(root, "files", `${f.key.slice(0, 8)}.check`);
      await client.download(f.key, copy);
      assert.equal(await sha256OfPath(copy), f.key, "nothing acknowledged is lost");
    }
    assert.equal(server.process.exited, false);
    assert.ok(!server.process.log().includes(UNHANDLED_REJECTION_MESSAGE));
  });
});
