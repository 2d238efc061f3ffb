// Removing data servers while the system runs, with real processes. Three
// servers hold a few hundred files; `albumshare decommission` removes one
// while another process keeps uploading and downloading: no operation fails,
// every key ends on the server the new ring names (and nowhere else), and
// verifies there. Then the identity rules: a second server on a member's
// folder exits at once naming the holder; a server restarted on a wiped
// folder at a member's address is refused naming that member until the
// operator removes it with --force, which reports exactly the content keys
// the albums reference that the ring had placed on it (counted from the
// albums in the central store, since the server's data is gone); afterwards
// it joins.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  addFile,
  createAlbumState,
  encodeDelta,
  encodeState,
  removeFile,
  type AlbumDelta,
  type AlbumState,
} from "../../src/crdt/index.ts";
import { albumshareBin, repoRoot } from "../support/cli-server.ts";
import { holds, makeFile, sha256OfPath } from "./helpers/cluster-files.ts";
import { LiveCluster, type KnownFile } from "./helpers/live-cluster.ts";
import { TEST_CLUSTER_TOKEN, spawnDataServer } from "./helpers/process-harness.ts";

const INITIAL_FILES = 150;

async function decommission(central: string, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [albumshareBin, "decommission", ...args, "--central", central],
    { cwd: repoRoot, env: { ...process.env, ALBUMSHARE_CLUSTER_TOKEN: TEST_CLUSTER_TOKEN } },
  );
  return stdout.trim();
}

void describe("removing data servers while the system runs", { timeout: 300_000 }, () => {
  let cluster: LiveCluster;

  // Stores three albums through the coordinator's store, made with the CRDT
  // operations from uploaded keys: "trip" (files with renditions), "dunes"
  // (sharing files with trip, one file removed) and "open" (a replica plus
  // the log of an open editing session). Returns the live references.
  async function storeAlbums(uploaded: readonly KnownFile[]): Promise<{
    keys: Set<string>;
    files: { album: string; name: string; keys: string[] }[];
  }> {
    const keyOf = (i: number): string => uploaded[i % uploaded.length]!.key;
    const alice = { slot: 1, user: "alice" };
    const files: { album: string; name: string; keys: string[] }[] = [];
    const add = (state: AlbumState, album: string, i: number, renditions: boolean): AlbumDelta => {
      const media = renditions
        ? { kind: "image" as const, thumbnailKey: keyOf(i + 100), previewKey: keyOf(i + 120) }
        : undefined;
      const name = `f${i}.jpg`;
      files.push({
        album,
        name,
        keys: [keyOf(i), ...(media ? [media.thumbnailKey, media.previewKey] : [])],
      });
      return addFile(state, alice, {
        name,
        contentKey: keyOf(i),
        size: 1,
        ...(media ? { media } : {}),
      });
    };
    const trip = createAlbumState("alice");
    for (let i = 0; i < 20; i++) add(trip, "trip", i, i % 2 === 0);
    const dunes = createAlbumState("alice");
    for (let i = 10; i < 40; i++) add(dunes, "dunes", i, false);
    removeFile(dunes, alice, "f39.jpg");
    files.splice(
      files.findIndex((f) => f.album === "dunes" && f.name === "f39.jpg"),
      1,
    );
    const open = createAlbumState("alice");
    for (let i = 40; i < 50; i++) add(open, "open", i, false);
    const replica = encodeState(open);
    const log: Uint8Array[] = [];
    for (let i = 50; i < 60; i++) log.push(encodeDelta(add(open, "open", i, true)));
    for (const [name, state, entries] of [
      ["trip", encodeState(trip), []],
      ["dunes", encodeState(dunes), []],
      ["open", replica, log],
    ] as const) {
      cluster.coordinator.process.send({
        command: "storeAlbum",
        name,
        creator: "alice",
        replica: Buffer.from(state).toString("base64"),
        log: entries.map((delta) => Buffer.from(delta).toString("base64")),
      });
      await cluster.coordinator.process.waitFor("album-stored", 30_000, false);
    }
    return { keys: new Set(files.flatMap((f) => f.keys)), files };
  }

  before(async () => {
    cluster = await LiveCluster.start("albumshare-decommission-", INITIAL_FILES);
  });

  after(() => cluster?.stop());

  void test("a server is decommissioned under load: nothing fails, every key is on its new owner", async (t) => {
    const { files, ringSource, servers } = cluster;
    const before = ringSource.current();
    const leaving = servers[2]!;
    await cluster.startLoad();
    const line = await decommission(cluster.coordinator.address, leaving.serverId);
    assert.match(
      line,
      new RegExp(
        `^decommissioned ${leaving.serverId}: \\d+ keys \\(\\d+ bytes\\) moved to their new owners; ring version ${before.version + 1}$`,
      ),
    );
    await cluster.loadProgress();
    const summary = await cluster.stopLoad();
    assert.deepEqual(summary.failures, [], "no read or write may fail during the decommission");
    assert.ok(summary.uploads > 0 && summary.downloads > 0);
    t.diagnostic(
      `${line}; load client: ${summary.uploads} uploads, ${summary.downloads} downloads, 0 failures`,
    );

    const afterRing = await ringSource.refresh();
    assert.equal(afterRing.nodes.length, 2);
    assert.equal(afterRing.node(leaving.serverId), undefined);
    const all = [...files, ...summary.uploaded];
    // The server left keeps running outside the ring, holding nothing.
    await cluster.checkPlacement(afterRing, all);
    await cluster.verifyDownloads(all);
    files.push(...summary.uploaded);
    await leaving.process.stop();
  });

  void test("one owner per folder, one identity per address; --force removes a member whose data is gone", async (t) => {
    const { files, ringSource, servers, dirs, client, root } = cluster;
    const coordinator = cluster.coordinator;
    const member = servers[1]!;
    const dir = dirs.get(member.serverId)!;
    // A second server on a member's folder exits at once, naming the holder.
    const second = spawnDataServer("second-on-folder", coordinator.address, dir);
    const refusedLock = await second.waitFor("failed");
    assert.match(
      refusedLock.message as string,
      new RegExp(
        `the folder .* is in use by pid ${member.process.pid} \\(data server on ${member.address}\\)`,
      ),
    );

    // Albums referencing uploaded keys (contents and renditions, shared
    // between albums, one removed, one album with an open session's log):
    // what the member holds of them is what --force must report lost.
    const ringBefore = await ringSource.refresh();
    const referenced = await storeAlbums(files);
    const held = new Set<string>();
    for (const key of referenced.keys) if (await holds(dir, key)) held.add(key);
    const onMember = [...referenced.keys].filter(
      (key) => ringBefore.ownerOf(key).serverId === member.serverId,
    );
    assert.deepEqual(
      new Set(onMember),
      held,
      "the member holds exactly what the ring placed on it",
    );
    assert.ok(held.size > 0 && held.size < referenced.keys.size);
    const lostFiles = referenced.files.filter((f) => f.keys.some((key) => held.has(key)));
    const lostAlbums = new Set(lostFiles.map((f) => f.album));
    const names = lostFiles.map((f) => `${f.name} (${f.album})`).sort();

    // The member's folder is wiped; a server started there at its address gets a new identity and is refused.
    const port = Number(member.address.split(":").pop());
    await member.process.stop();
    await rm(dir, { recursive: true, force: true });
    const wiped = spawnDataServer("wiped", coordinator.address, dir, port);
    const refused = await wiped.waitFor("failed");
    assert.match(
      refused.message as string,
      new RegExp(
        `the address ${member.address} belongs to data server ${member.serverId}, a member of the ring`,
      ),
    );
    assert.match(
      refused.message as string,
      new RegExp(`albumshare decommission ${member.serverId}`),
    );
    assert.ok(
      (await ringSource.refresh()).node(member.serverId),
      "the member is still in the ring",
    );

    const line = await decommission(coordinator.address, member.address, "--force");
    assert.equal(
      line,
      `removed ${member.serverId}; ${held.size} content keys referenced by ${lostAlbums.size} albums` +
        ` were on it and are lost (files: ${names.slice(0, 3).join(", ")}, and ${names.length - 3} more)` +
        `; ring version ${ringBefore.version + 1}`,
    );
    t.diagnostic(`${line} (of ${referenced.keys.size} referenced keys)`);
    const ring = await ringSource.refresh();
    assert.equal(ring.node(member.serverId), undefined);
    dirs.delete(member.serverId);

    // Now a server on that folder and address joins, and the cluster stores again.
    const fresh = await cluster.addServer("fresh", port);
    assert.equal(fresh.address, member.address);
    const sources = join(root, "sources");
    const file = await makeFile(sources, "after-force", 50_000);
    await client.upload(file.path);
    const dest = join(root, "verify-after-force");
    await client.download(file.key, dest);
    assert.equal(await sha256OfPath(dest), file.key);
  });
});
