// The data path end to end with real processes on 127.0.0.1: a cluster
// coordinator and two data servers, each in its own process, and the client
// transfer functions in the test process. Uploads and downloads from 0 bytes
// to tens of MiB, dedup, refusals that leave nothing, redirects, the cluster
// token, resumed downloads, the operator status, and restarts.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Metadata } from "@grpc/grpc-js";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import { GrpcConnection } from "../../src/common/grpc/client-calls.ts";
import { clusterTokenMetadata } from "../../src/common/grpc/cluster-token.ts";
import { redirectRingVersion } from "../../src/common/grpc/ring-redirect.ts";
import { ClusterRingSource } from "../../src/client/data-transfer/cluster-ring-source.ts";
import { DataTransferClient } from "../../src/client/data-transfer/data-transfer-client.ts";
import { PARTIAL_SUFFIX } from "../../src/client/data-transfer/download.ts";
import { ClusterService } from "../../src/gen/albumshare/cluster/v1/cluster_pb.ts";
import {
  DataPeerService,
  DataService,
  UploadOutcome,
} from "../../src/gen/albumshare/data/v1/data_pb.ts";
import type { ClusterStatus } from "../../src/central/cluster/cluster-status.ts";
import { holds, makeFile, sha256, sha256OfPath, type TestFile } from "./helpers/cluster-files.ts";
import {
  TEST_CLUSTER_TOKEN,
  startCoordinator,
  startDataServer,
  type FixtureProcess,
  type StartedDataServer,
} from "./helpers/process-harness.ts";

const MiB = 1024 * 1024;

async function rejectsWith(
  promise: Promise<unknown>,
  code: ErrorCode,
  pattern?: RegExp,
): Promise<AlbumError> {
  let caught: AlbumError | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AlbumError, `expected an AlbumError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    caught = error;
    return true;
  });
  return caught!;
}

void describe("data servers with real processes", () => {
  let root: string;
  let coordinator: { process: FixtureProcess; address: string };
  const servers: StartedDataServer[] = [];
  const serverDirs: string[] = [];
  let ringSource: ClusterRingSource;
  let client: DataTransferClient;
  const uploaded: TestFile[] = [];

  const dirOf = (serverId: string): string =>
    serverDirs[servers.findIndex((s) => s.serverId === serverId)]!;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "albumshare-data-"));
    coordinator = await startCoordinator(join(root, "central"));
    for (let i = 0; i < 2; i++) {
      serverDirs.push(join(root, `data-${i}`));
      servers.push(await startDataServer(`data-${i}`, coordinator.address, serverDirs[i]!));
    }
    ringSource = new ClusterRingSource(coordinator.address, TEST_CLUSTER_TOKEN);
    await ringSource.refresh();
    client = new DataTransferClient(ringSource);
  });

  after(async () => {
    client?.close();
    ringSource?.close();
    await Promise.all(servers.map((s) => s.process.stop()));
    await coordinator?.process.stop();
    await rm(root, { recursive: true, force: true });
  });

  void test("the ring names both servers", () => {
    const ring = ringSource.current();
    assert.equal(ring.nodes.length, 2);
    assert.deepEqual(
      new Set(ring.nodes.map((n) => n.serverId)),
      new Set(servers.map((s) => s.serverId)),
    );
  });

  void test("uploads and downloads files from 0 bytes to tens of MiB, verified", async () => {
    const sizes = [0, 1, MiB - 1, MiB, MiB + 1, 3 * MiB + 17, 24 * MiB];
    for (const size of sizes) {
      const file = await makeFile(root, `file-${size}`, size);
      const phases = new Set<string>();
      const result = await client.upload(file.path, (p) => phases.add(p.phase));
      assert.deepEqual(result, { key: file.key, size, alreadyPresent: false });
      if (size > 0) assert.ok(phases.has("hashing") && phases.has("uploading"));
      uploaded.push(file);
      const dest = join(root, `back-${size}`);
      const downloaded = await client.download(file.key, dest);
      assert.deepEqual(downloaded, { key: file.key, size, resumedFrom: 0 });
      assert.equal(await sha256OfPath(dest), file.key);
      await rm(dest);
      // Exactly the owner holds it.
      const owner = ringSource.current().ownerOf(file.key).serverId;
      for (const s of servers)
        assert.equal(await holds(dirOf(s.serverId), file.key), s.serverId === owner);
    }
  });

  void test("uploading a content that is already stored sends nothing (dedup)", async () => {
    const file = uploaded.find((f) => f.size === 3 * MiB + 17)!;
    const copy = join(root, "same-content-other-name");
    await writeFile(copy, await readFile(file.path));
    const progress: number[] = [];
    const result = await client.upload(
      copy,
      (p) => p.phase === "uploading" && progress.push(p.doneBytes),
    );
    assert.deepEqual(result, { key: file.key, size: file.size, alreadyPresent: true });
    assert.deepEqual(progress, [file.size]);
    // A client that skips Stat and streams anyway is told it is already present.
    const owner = ringSource.current().ownerOf(file.key);
    const connection = new GrpcConnection(owner.address);
    try {
      const call = connection.clientStream(DataService.method.upload);
      await call.send({
        part: { case: "header", value: { key: file.key, size: BigInt(file.size) } },
      });
      const reply = await call.finish();
      assert.equal(reply.outcome, UploadOutcome.ALREADY_PRESENT);
    } finally {
      connection.close();
    }
  });

  void test("an upload whose content does not hash to its key is rejected and leaves nothing", async () => {
    const bytes = randomBytes(2 * MiB + 5);
    const claimed = sha256(randomBytes(32));
    const owner = ringSource.current().ownerOf(claimed);
    const connection = new GrpcConnection(owner.address);
    try {
      const call = connection.clientStream(DataService.method.upload);
      await call.send({
        part: { case: "header", value: { key: claimed, size: BigInt(bytes.length) } },
      });
      for (let i = 0; i < bytes.length; i += MiB)
        await call.send({ part: { case: "chunk", value: bytes.subarray(i, i + MiB) } });
      await rejectsWith(call.finish(), ErrorCode.InvalidArgument, /does not hash to its key/);
      const stat = await connection.unary(DataService.method.stat, { key: claimed });
      assert.equal(stat.exists, false);
    } finally {
      connection.close();
    }
    for (const dir of serverDirs) {
      assert.equal(await holds(dir, claimed), false);
      assert.deepEqual(await readdir(join(dir, "tmp")), []);
    }
  });

  void test("malformed keys and path traversal attempts are refused", async () => {
    const connection = new GrpcConnection(servers[0]!.address);
    const bad = [
      "",
      "../../../etc/passwd",
      `../${"0".repeat(61)}`,
      `${"0".repeat(62)}/.`,
      "F".repeat(64),
      "z".repeat(64),
      "0".repeat(65),
    ];
    try {
      for (const key of bad) {
        await rejectsWith(
          connection.unary(DataService.method.stat, { key }),
          ErrorCode.InvalidArgument,
          /content key/,
        );
        await rejectsWith(
          collect(connection.serverStream(DataService.method.download, { key })),
          ErrorCode.InvalidArgument,
        );
        const call = connection.clientStream(DataService.method.upload);
        await call.send({ part: { case: "header", value: { key, size: 1n } } }).catch(() => false);
        await rejectsWith(call.finish(), ErrorCode.InvalidArgument);
      }
      // An upload must start with its header.
      const headless = connection.clientStream(DataService.method.upload);
      await headless
        .send({ part: { case: "chunk", value: new Uint8Array(10) } })
        .catch(() => false);
      await rejectsWith(headless.finish(), ErrorCode.InvalidArgument, /header/);
      await rejectsWith(
        client.download("../../etc/passwd", join(root, "nope")),
        ErrorCode.InvalidArgument,
      );
    } finally {
      connection.close();
    }
  });

  void test("an unknown key is not found; the wrong server redirects with the ring version", async () => {
    const key = sha256(randomBytes(16));
    await rejectsWith(client.download(key, join(root, "unknown")), ErrorCode.NotFound);
    const ring = ringSource.current();
    const other = ring.nodes.find((n) => n.serverId !== ring.ownerOf(key).serverId)!;
    const connection = new GrpcConnection(other.address);
    try {
      const error = await rejectsWith(
        connection.unary(DataService.method.stat, { key, ringVersion: BigInt(ring.version) }),
        ErrorCode.FailedPrecondition,
        /refresh the ring/,
      );
      assert.equal(redirectRingVersion(error), ring.version);
    } finally {
      connection.close();
    }
  });

  void test("internal RPCs require the cluster token; clients cannot list keys", async () => {
    const data = new GrpcConnection(servers[0]!.address);
    const cluster = new GrpcConnection(coordinator.address);
    const wrong = clusterTokenMetadata("not-the-cluster-token-at-all");
    try {
      for (const metadata of [new Metadata(), wrong]) {
        await rejectsWith(
          collect(data.serverStream(DataPeerService.method.listKeys, {}, { metadata })),
          ErrorCode.Unauthenticated,
        );
        await rejectsWith(
          data.unary(DataPeerService.method.usage, {}, { metadata }),
          ErrorCode.Unauthenticated,
        );
        await rejectsWith(
          data.unary(DataPeerService.method.release, {}, { metadata }),
          ErrorCode.Unauthenticated,
        );
        await rejectsWith(
          collect(
            data.serverStream(
              DataPeerService.method.fetch,
              { key: uploaded[1]!.key },
              { metadata },
            ),
          ),
          ErrorCode.Unauthenticated,
        );
        await rejectsWith(
          cluster.unary(ClusterService.method.getRing, {}, { metadata }),
          ErrorCode.Unauthenticated,
        );
        await rejectsWith(
          cluster.unary(
            ClusterService.method.register,
            { serverId: "ds-0000000000000000", address: "127.0.0.1:1" },
            { metadata },
          ),
          ErrorCode.Unauthenticated,
        );
      }
    } finally {
      data.close();
      cluster.close();
    }
  });

  void test("an interrupted download resumes from its partial file; a corrupt partial is discarded", async () => {
    const file = uploaded.find((f) => f.size === 3 * MiB + 17)!;
    const content = await readFile(file.path);
    const dest = join(root, "resumed");
    await writeFile(`${dest}${PARTIAL_SUFFIX}`, content.subarray(0, 1_500_000));
    const result = await client.download(file.key, dest);
    assert.equal(result.resumedFrom, 1_500_000);
    assert.equal(await sha256OfPath(dest), file.key);
    const corrupt = Buffer.from(content.subarray(0, 1_000_000));
    corrupt[10] = corrupt[10]! ^ 0xff;
    await writeFile(`${dest}${PARTIAL_SUFFIX}`, corrupt);
    await rejectsWith(client.download(file.key, dest), ErrorCode.Internal, /does not hash/);
    assert.deepEqual(
      (await readdir(root)).filter((n) => n.endsWith(PARTIAL_SUFFIX)),
      [],
    );
    // The verified file from before is still in place, untouched.
    assert.equal(await sha256OfPath(dest), file.key);
    await client.download(file.key, dest);
    assert.equal(await sha256OfPath(dest), file.key);
  });

  void test("the operator status shows the ring version, shares, keys and bytes", async () => {
    coordinator.process.send({ command: "status" });
    const { status } = (await coordinator.process.waitFor("status")) as unknown as {
      status: ClusterStatus;
    };
    assert.equal(status.ringVersion, ringSource.current().version);
    assert.equal(status.servers.length, 2);
    const shares = status.servers.reduce((sum, s) => sum + s.share, 0);
    assert.ok(Math.abs(shares - 1) < 1e-9, `shares sum to ${shares}`);
    assert.equal(
      status.servers.reduce((sum, s) => sum + (s.keys ?? 0), 0),
      uploaded.length,
    );
    assert.equal(
      status.servers.reduce((sum, s) => sum + (s.bytes ?? 0), 0),
      uploaded.reduce((sum, f) => sum + f.size, 0),
    );
    assert.ok(status.servers.every((s) => s.reachable && s.ringVersion === status.ringVersion));
  });

  void test("a data server killed and restarted on its directory keeps its keys and identity", async () => {
    const victim = servers[0]!;
    await victim.process.kill9();
    const restarted = await startDataServer("data-0-again", coordinator.address, serverDirs[0]!);
    assert.equal(restarted.serverId, victim.serverId);
    assert.equal(restarted.movedKeys, 0);
    servers[0] = restarted;
    // Its port changed: the ring has a new version with the new address.
    const ring = await ringSource.refresh();
    assert.equal(ring.node(victim.serverId)!.address, restarted.address);
    for (const file of uploaded) {
      const dest = join(root, "after-restart");
      await client.download(file.key, dest);
      assert.equal(await sha256OfPath(dest), file.key);
    }
  });

  void test("a restarted central server keeps the ring", async () => {
    const before = await ringSource.refresh();
    const port = Number(coordinator.address.split(":")[1]);
    await coordinator.process.stop();
    coordinator = await startCoordinator(join(root, "central"), port);
    const after = await ringSource.refresh();
    assert.equal(after.version, before.version);
    assert.deepEqual(after.toProto(), before.toProto());
    const file = uploaded.find((f) => f.size === MiB)!;
    await client.download(file.key, join(root, "after-central-restart"));
    assert.equal(await sha256OfPath(join(root, "after-central-restart")), file.key);
  });
});

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}
