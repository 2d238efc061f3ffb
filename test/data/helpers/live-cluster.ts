// The running cluster the membership tests (a server joining, a server
// leaving) work on: a coordinator and three data servers as real processes,
// a few hundred uploaded files of known content, a client, and a load client
// process that keeps uploading and downloading while the membership changes.
// It also checks what those tests assert afterwards: every key on exactly the
// server the ring names, and every file downloading and verifying.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClusterRingSource } from "../../../src/client/data-transfer/cluster-ring-source.ts";
import { DataTransferClient } from "../../../src/client/data-transfer/data-transfer-client.ts";
import type { Ring } from "../../../src/ring/ring.ts";
import { holds, makeFile, sha256OfPath } from "./cluster-files.ts";
import {
  FixtureProcess,
  TEST_CLUSTER_TOKEN,
  startCoordinator,
  startDataServer,
  type StartedDataServer,
} from "./process-harness.ts";

/** An uploaded file: its content key and size. */
export interface KnownFile {
  key: string;
  size: number;
}

/** What the load client reports when it stops. */
export interface LoadSummary {
  uploads: number;
  downloads: number;
  failures: string[];
  uploaded: KnownFile[];
}

export class LiveCluster {
  readonly root: string;
  readonly servers: StartedDataServer[] = [];
  /** Each member's data folder, by server id (what checkPlacement looks in). */
  readonly dirs = new Map<string, string>();
  /** The files uploaded so far that must stay readable. */
  readonly files: KnownFile[] = [];
  #coordinator: { process: FixtureProcess; address: string } | undefined;
  #ringSource: ClusterRingSource | undefined;
  #client: DataTransferClient | undefined;
  #load: FixtureProcess | undefined;

  private constructor(root: string) {
    this.root = root;
  }

  /** A coordinator, three data servers and `initialFiles` uploaded files (a few of several chunks). */
  static async start(prefix: string, initialFiles: number): Promise<LiveCluster> {
    const cluster = new LiveCluster(await mkdtemp(join(tmpdir(), prefix)));
    try {
      cluster.#coordinator = await startCoordinator(join(cluster.root, "central"));
      for (let i = 0; i < 3; i++) await cluster.addServer(`data-${i}`);
      cluster.#ringSource = new ClusterRingSource(cluster.coordinator.address, TEST_CLUSTER_TOKEN);
      await cluster.#ringSource.refresh();
      cluster.#client = new DataTransferClient(cluster.#ringSource);
      const sources = join(cluster.root, "sources");
      await mkdir(sources);
      for (let i = 0; i < initialFiles; i++) {
        // Mostly small files, a few of several chunks.
        const size = i % 50 === 0 ? 2 * 1024 * 1024 + i : 1 + ((i * 7919) % 48_000);
        const file = await makeFile(sources, `f${i}`, size);
        const result = await cluster.client.upload(file.path);
        assert.equal(result.key, file.key);
        cluster.files.push({ key: file.key, size: file.size });
        await rm(file.path);
      }
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  get coordinator(): { process: FixtureProcess; address: string } {
    assert.ok(this.#coordinator, "the coordinator is not started");
    return this.#coordinator;
  }

  get ringSource(): ClusterRingSource {
    assert.ok(this.#ringSource, "the cluster is not started");
    return this.#ringSource;
  }

  get client(): DataTransferClient {
    assert.ok(this.#client, "the cluster is not started");
    return this.#client;
  }

  /** Starts a data server on its own folder under the root and waits until it is a member. */
  async addServer(name: string, port = 0): Promise<StartedDataServer> {
    const dir = join(this.root, name);
    const server = await startDataServer(name, this.coordinator.address, dir, port);
    this.servers.push(server);
    this.dirs.set(server.serverId, dir);
    return server;
  }

  /** Each key is on exactly the server `ring` names, and on no other member's folder. */
  async checkPlacement(ring: Ring, keys: readonly KnownFile[]): Promise<void> {
    for (const { key } of keys) {
      const owner = ring.ownerOf(key).serverId;
      const holders: string[] = [];
      for (const [serverId, dir] of this.dirs) if (await holds(dir, key)) holders.push(serverId);
      assert.deepEqual(
        holders,
        [owner],
        `key ${key.slice(0, 12)} is on ${holders.join(",") || "no server"}, ring names ${owner}`,
      );
    }
  }

  /** Every file downloads with its size and content key. */
  async verifyDownloads(files: readonly KnownFile[]): Promise<void> {
    const dest = join(this.root, "verify");
    for (const file of files) {
      const result = await this.client.download(file.key, dest);
      assert.equal(result.size, file.size);
      assert.equal(await sha256OfPath(dest), file.key);
    }
  }

  /**
   * Starts the load client on the known files and waits for its first
   * progress report: from then on it uploads and downloads continuously.
   */
  async startLoad(): Promise<void> {
    assert.equal(this.#load, undefined, "a load client is already running");
    const knownFile = join(this.root, "known.json");
    await writeFile(knownFile, JSON.stringify(this.files));
    this.#load = new FixtureProcess("load-client", "load-client-main.ts", {
      central: this.coordinator.address,
      clusterToken: TEST_CLUSTER_TOKEN,
      workDir: join(this.root, "load"),
      knownFile,
    });
    await this.#load.waitFor("started");
    await this.loadProgress();
  }

  /** Waits for the load client's next progress report. */
  async loadProgress(): Promise<void> {
    assert.ok(this.#load, "no load client is running");
    await this.#load.waitFor("progress", 30_000, false);
  }

  /** Stops the load client and returns its summary. */
  async stopLoad(): Promise<LoadSummary> {
    const load = this.#load;
    assert.ok(load, "no load client is running");
    load.send({ command: "stop" });
    const summary = (await load.waitFor("summary", 30_000)) as unknown as LoadSummary;
    await load.stop();
    this.#load = undefined;
    return summary;
  }

  /** Stops every process it started and removes the root folder. */
  async stop(): Promise<void> {
    this.#client?.close();
    this.#ringSource?.close();
    await this.#load?.stop();
    await Promise.all(this.servers.map((s) => s.process.stop()));
    await this.#coordinator?.process.stop();
    await rm(this.root, { recursive: true, force: true });
  }
}
