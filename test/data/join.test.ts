// Adding data servers while the system runs, with real processes: three
// servers hold a few hundred files; a fourth joins while another process keeps
// uploading and downloading. Afterwards every file downloads and verifies, no
// read or write failed during the join, and each file is on exactly the
// server the new ring names. Then two more ask to join at once: one waits
// (and says so) until the other has finished.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { LiveCluster } from "./helpers/live-cluster.ts";
import { dataServerReady, spawnDataServer } from "./helpers/process-harness.ts";
import { eventually } from "../support/eventually.ts";

const INITIAL_FILES = 300;

void describe("adding data servers while the system runs", () => {
  let cluster: LiveCluster;

  before(async () => {
    cluster = await LiveCluster.start("albumshare-join-", INITIAL_FILES);
  });

  after(() => cluster?.stop());

  void test("a fourth server joins under load: nothing fails, nothing is lost, each key is where the ring says", async (t) => {
    const { files, ringSource } = cluster;
    const before = ringSource.current();
    await cluster.checkPlacement(before, files);
    await cluster.startLoad();

    const fourth = await cluster.addServer("data-3");
    // Keep the load going across the switch and the release.
    await cluster.loadProgress();
    await cluster.loadProgress();
    const summary = await cluster.stopLoad();
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
    await cluster.checkPlacement(afterRing, all);
    await cluster.verifyDownloads(all);
    files.push(...summary.uploaded);
  });

  void test("two servers asking to join at once: one waits, says so, then joins", async () => {
    const { servers, dirs, ringSource, root } = cluster;
    const startedBefore = ringSource.current().version;
    // Freeze the current members: whichever newcomer starts joining first
    // cannot finish copying, so the other one must wait for it.
    const members = [...servers];
    for (const member of members) member.process.pause();
    const spawned = ["data-4", "data-5"].map((name) =>
      spawnDataServer(name, cluster.coordinator.address, join(root, name)),
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
    await cluster.checkPlacement(ring, cluster.files);
  });
});
