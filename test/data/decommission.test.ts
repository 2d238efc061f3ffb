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
import { mkdir, rm, writeFile } from "node:fs/promises";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ClusterRingSource } from "../../src/client/data-transfer/cluster-ring-source.ts";
import { DataTransferClient } from "../../src/client/data-transfer/data-transfer-client.ts";
import {
  addFile,
  createAlbumState,
  encodeDelta,
  encodeState,
  removeFile,
  type AlbumDelta,
  type AlbumState,
} from "../../src/crdt/index.ts";
import type { Ring } from "../../src/ring/ring.ts";
import { albumshareBin, repoRoot } from "../support/cli-server.ts";
import { holds, makeFile, sha256OfPath } from "./helpers/cluster-files.ts";
import {
  FixtureProcess,
  TEST_CLUSTER_TOKEN,
  dataServerReady,
  spawnDataServer,
  startCoordinator,
  type StartedDataServer,
} from "./helpers/process-harness.ts";

interface Known {
  key: string;
  size: number;
}

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
  let root: string;
  let coordinator: { process: FixtureProcess; address: string };
  const servers: StartedDataServer[] = [];
  const dirs = new Map<string, string>();
  let ringSource: ClusterRingSource;
  let client: DataTransferClient;
  const files: Known[] = [];
  let load: FixtureProcess | undefined;

  async function addServer(name: string, port = 0): Promise<StartedDataServer> {
    const dir = join(root, name);
    const server = await dataServerReady(spawnDataServer(name, coordinator.address, dir, port));
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

  // Stores three albums through the coordinator's store, made with the CRDT
  // operations from uploaded keys: "trip" (files with renditions), "dunes"
  // (sharing files with trip, one file removed) and "open" (a replica plus
  // the log of an open editing session). Returns the live references.
  async function storeAlbums(uploaded: readonly Known[]): Promise<{
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
      coordinator.process.send({
        command: "storeAlbum",
        name,
        creator: "alice",
        replica: Buffer.from(state).toString("base64"),
        log: entries.map((delta) => Buffer.from(delta).toString("base64")),
      });
      await coordinator.process.waitFor("album-stored", 30_000, false);
    }
    return { keys: new Set(files.flatMap((f) => f.keys)), files };
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "albumshare-decommission-"));
    coordinator = await startCoordinator(join(root, "central"));
    for (let i = 0; i < 3; i++) await addServer(`data-${i}`);
    ringSource = new ClusterRingSource(coordinator.address, TEST_CLUSTER_TOKEN);
    await ringSource.refresh();
    client = new DataTransferClient(ringSource);
    const sources = join(root, "sources");
    await mkdir(sources);
    for (let i = 0; i < INITIAL_FILES; i++) {
      const size = i % 50 === 0 ? 2 * 1024 * 1024 + i : 1 + ((i * 7919) % 48_000);
      const file = await makeFile(sources, `f${i}`, size);
      await client.upload(file.path);
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

  void test("a server is decommissioned under load: nothing fails, every key is on its new owner", async (t) => {
    const before = ringSource.current();
    const leaving = servers[2]!;
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
    const line = await decommission(coordinator.address, leaving.serverId);
    assert.match(
      line,
      new RegExp(
        `^decommissioned ${leaving.serverId}: \\d+ keys \\(\\d+ bytes\\) moved to their new owners; ring version ${before.version + 1}$`,
      ),
    );
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
    await checkPlacement(afterRing, all);
    for (const file of all) {
      const dest = join(root, "verify");
      const result = await client.download(file.key, dest);
      assert.equal(result.size, file.size);
      assert.equal(await sha256OfPath(dest), file.key);
    }
    files.push(...summary.uploaded);
    await leaving.process.stop();
  });

  void test("one owner per folder, one identity per address; --force removes a member whose data is gone", async (t) => {
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
    const fresh = await addServer("fresh", port);
    assert.equal(fresh.address, member.address);
    const sources = join(root, "sources");
    const file = await makeFile(sources, "after-force", 50_000);
    await client.upload(file.path);
    const dest = join(root, "verify-after-force");
    await client.download(file.key, dest);
    assert.equal(await sha256OfPath(dest), file.key);
  });
});
