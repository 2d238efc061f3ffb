// Adding data servers while the system runs, with real processes: three
// servers hold a few hundred files; a fourth joins while another process keeps
// uploading and downloading. Afterwards every file downloads and verifies, no
// read or write failed during the join, and each file is on exactly the
// server the new ring names. Then two more ask to join at once: one waits
// (and says so) until the other has finished.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClusterRingSource } from "../../src/client/data-transfer/cluster-ring-source.ts";
import { DataTransferClient } from "../../src/client/data-transfer/data-transfer-client.ts";
import type { Ring } from "../../src/ring/ring.ts";
import { holds, makeFile, sha256OfPath } from "./helpers/cluster-files.ts";
import {
  FixtureProcess,
  TEST_CLUSTER_TOKEN,
  dataServerReady,
  spawnDataServer,
  startCoordinator,
  startDataServer,
  type StartedDataServer,
} from "./helpers/process-harness.ts";
import { eventually } from "../support/eventually.ts";

interface Known {
  key: string;
  size: number;
}

const INITIAL_FILES = 300;

void describe("adding data servers while the system runs", () => {
  let root: string;
  let coordinator: { process: FixtureProcess; address: string };
  const servers: StartedDataServer[] = [];
  const dirs = new Map<string, string>();
  let ringSource: ClusterRingSource;
  let client: DataTransferClient;
  const files: Known[] = [];
  let load: FixtureProcess | undefined;

  async function addServer(name: string): Promise<StartedDataServer> {
    const dir = join(root, name);
    const server = await startDataServer(name, coordinator.address, dir);
    servers.push(server);
    dirs.set(server.serverId, dir);
    return server;
  }

  async function checkPlacement(ring: Ring, keys: readonly Known[]): Promise<void> {
    for (const { key } of keys) {
      const owner = ring.ownerOf(key).serverId;
      const holders: string[] = [];
      for (const [serverId, dir] of dirs) if (await holds(dir, key)) holders.push(serverId);
      assert.deepEqual(
        holders,
        [owner],
        `key ${key.slice(0, 12)} is on ${holders.join(",") || "no server"}, ring names ${owner}`,
      );
    }
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "albumshare-join-"));
    coordinator = await startCoordinator(join(root, "central"));
    for (let i = 0; i < 3; i++) await addServer(`data-${i}`);
    ringSource = new ClusterRingSource(coordinator.address, TEST_CLUSTER_TOKEN);
    await ringSource.refresh();
    client = new DataTransferClient(ringSource);
    const sources = join(root, "sources");
    await import("node:fs/promises").then((fs) => fs.mkdir(sources));
    for (let i = 0; i < INITIAL_FILES; i++) {
      // Mostly small files, a few of several chunks.
      const size = i % 50 === 0 ? 2 * 1024 * 1024 + i : 1 + ((i * 7919) % 48_000);
      const file = await makeFile(sources, `f${i}`, size);
      const result = await client.upload(file.path);
      assert.equal(result.key, file.key);
      files.push({ key: file.key, size: file.size });
      await rm(file.path);
    }
  });

  after(async () => {
    client?.close();
    ringSource?.close();
    await load?.stop();
    await Promise.all(servers.map((s) => s.process.stop()));
    await coordinator?.process.stop();
    await rm(root, { recursive: true, force: true });
  });

  void test("a fourth server joins under load: nothing fails, nothing is lost, each key is where the ring says", async (t) => {
    const before = ringSource.current();
    await checkPlacement(before, files);
    const knownFile = join(root, "known.json");
    await writeFile(knownFile, JSON.stringify(files));
    load = new FixtureProcess("load-client", "load-client-main.ts", {
      central: coordinator.address,
      clusterToken: TEST_CLUSTER_TOKEN,
      workDir: join(root, "load"),
      knownFile,
    });
    await load.waitFor("started");
    await load.waitFor("progress", 30_000, false);

    const fourth = await addServer("data-3");
    // Keep the load going across the switch and the release.
    await load.waitFor("progress", 30_000, false);
    await load.waitFor("progress", 30_000, false);
    load.send({ command: "stop" });
    const summary = (await load.waitFor("summary", 30_000)) as unknown as {
      uploads: number;
      downloads: number;
      failures: string[];
      uploaded: Known[];
    };
    await load.stop();
    load = undefined;
    assert.deepEqual(summary.failures, [], "no read or write may fail during the join");
    assert.ok(summary.uploads > 0 && summary.downloads > 0);

    const afterRing = await ringSource.refresh();
    assert.equal(afterRing.nodes.length, 4);
    assert.ok(afterRing.version > before.version);
    const all = [...files, ...summary.uploaded];
    const moved = files.filter(
      (f) => before.ownerOf(f.key).serverId !== afterRing.ownerOf(f.key).serverId,
    );
    assert.ok(
      moved.every((f) => afterRing.ownerOf(f.key).serverId === fourth.serverId),
      "no key moves between old servers",
    );
    const fraction = moved.length / files.length;
    t.diagnostic(
      `moved ${moved.length} of ${files.length} keys (${(fraction * 100).toFixed(1)}%, ideal 25%); ` +
        `the new server pulled ${fourth.movedKeys}; load client: ${summary.uploads} uploads, ${summary.downloads} downloads, 0 failures`,
    );
    assert.ok(fraction > 0.1 && fraction < 0.4, `moved fraction ${fraction}`);
    await checkPlacement(afterRing, all);
    for (const file of all) {
      const dest = join(root, "verify");
      const result = await client.download(file.key, dest);
      assert.equal(result.size, file.size);
      assert.equal(await sha256OfPath(dest), file.key);
    }
    files.push(...summary.uploaded);
  });

  void test("two servers asking to join at once: one waits, says so, then joins", async () => {
    const startedBefore = ringSource.current().version;
    // Freeze the current members: whichever newcomer starts joining first
    // cannot finish copying, so the other one must wait for it.
    const members = [...servers];
    for (const member of members) member.process.pause();
    const spawned = ["data-4", "data-5"].map((name) =>
      spawnDataServer(name, coordinator.address, join(root, name)),
    );
    try {
      await eventually(
        () => spawned.some((p) => p.log().includes("waiting until its join completes")),
        "one of the two newcomers logs that it waits",
      );
    } finally {
      for (const member of members) member.process.resume();
    }
    for (const [index, process] of spawned.entries()) {
      const started = await dataServerReady(process);
      servers.push(started);
      dirs.set(started.serverId, join(root, `data-${4 + index}`));
    }
    const ring = await ringSource.refresh();
    assert.equal(ring.nodes.length, 6);
    assert.ok(ring.version >= startedBefore + 2);
    await checkPlacement(ring, files);
  });
});
