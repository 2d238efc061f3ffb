// The cluster coordinator's join state machine, in process, driven through its
// real gRPC service by the data server's ClusterLink, with a stand-in for the
// previous owner's DataPeerService: the plan and the ring switch, the queue
// (one join at a time), resuming after a coordinator restart between the
// switch and the release, releasing only after the new owner confirms, and
// cancelling a join whose server goes away before the switch.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { ClusterCoordinator } from "../../src/central/cluster/cluster-coordinator.ts";
import { notFound } from "../../src/common/album-error.ts";
import { silentLogger } from "../../src/common/logger.ts";
import { requireClusterToken } from "../../src/common/grpc/cluster-token.ts";
import { addService } from "../../src/common/grpc/service-handlers.ts";
import { ClusterLink } from "../../src/data/cluster-link.ts";
import { JoinPhase } from "../../src/gen/albumshare/cluster/v1/cluster_pb.ts";
import { DataPeerService, type ReleaseRequest } from "../../src/gen/albumshare/data/v1/data_pb.ts";
import { TEST_CLUSTER_TOKEN } from "./helpers/process-harness.ts";
import { eventually } from "../support/eventually.ts";

const idA = "ds-00000000000000aa";
const idB = "ds-00000000000000bb";
const idC = "ds-00000000000000cc";

type JoinStream = AsyncIterator<
  Awaited<ReturnType<ClusterLink["join"]> extends AsyncIterable<infer T> ? T : never>
>;

async function nextEvent(stream: JoinStream) {
  const next = await stream.next();
  assert.ok(!next.done, "the join stream ended early");
  return next.value.event;
}

void describe("cluster coordinator", () => {
  let dir: string;
  let coordinator: ClusterCoordinator;
  let port = 0;
  let peer: Server;
  let peerAddress: string;
  const releases: ReleaseRequest[] = [];
  const links: ClusterLink[] = [];

  const link = (serverId: string): ClusterLink => {
    const created = new ClusterLink({
      address: `127.0.0.1:${port}`,
      clusterToken: TEST_CLUSTER_TOKEN,
      serverId,
      logger: silentLogger(),
    });
    links.push(created);
    return created;
  };

  const startCoordinator = async (): Promise<void> => {
    coordinator = new ClusterCoordinator({
      host: "127.0.0.1",
      port,
      dir,
      clusterToken: TEST_CLUSTER_TOKEN,
      logger: silentLogger(),
    });
    await coordinator.start();
    port = coordinator.port;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "albumshare-coordinator-"));
    // Stands in for server A, the previous owner of what B takes over.
    peer = new Server();
    addService(peer, DataPeerService, {
      async *listKeys() {},
      // eslint-disable-next-line require-yield
      async *fetch() {
        throw notFound("nothing here");
      },
      async release(request, call) {
        requireClusterToken(call.metadata, TEST_CLUSTER_TOKEN);
        releases.push(request);
        return { deletedKeys: 3n, deletedBytes: 300n };
      },
      async usage(_request, call) {
        requireClusterToken(call.metadata, TEST_CLUSTER_TOKEN);
        return { serverId: idA, keys: 5n, bytes: 500n, ringVersion: 2n };
      },
      async takeOver() {
        return { copiedKeys: 0n, copiedBytes: 0n };
      },
    });
    const peerPort = await new Promise<number>((resolve, reject) =>
      peer.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    peerAddress = `127.0.0.1:${peerPort}`;
    await startCoordinator();
  });

  after(async () => {
    for (const created of links) created.close();
    await coordinator.stop();
    peer.forceShutdown();
    await rm(dir, { recursive: true, force: true });
  });

  void test("the first server joins an empty ring", async () => {
    const versions: number[] = [];
    const unsubscribe = coordinator.onRingChange((ring) => versions.push(ring.version));
    const a = link(idA);
    assert.deepEqual(await a.register(peerAddress).then((r) => r.member), false);
    const stream = a.join(peerAddress, new AbortController().signal)[Symbol.asyncIterator]();
    const plan = await nextEvent(stream);
    assert.equal(plan.case, "plan");
    if (plan.case !== "plan") return;
    assert.equal(plan.value.phase, JoinPhase.COPY);
    assert.deepEqual(plan.value.transfers, []);
    assert.equal(await a.joinCopied(plan.value.joinId), 1);
    assert.equal(await a.joinCompleted(plan.value.joinId, 0, 0), 1);
    assert.deepEqual((await nextEvent(stream)).case, "done");
    assert.deepEqual(versions, [1]);
    unsubscribe();
    assert.equal(coordinator.currentRing().node(idA)?.address, peerAddress);
  });

  void test("one join at a time; a restart between switch and release resumes; release comes after the confirmation", async () => {
    const b = link(idB);
    const c = link(idC);
    const streamB = b.join("127.0.0.1:1", new AbortController().signal)[Symbol.asyncIterator]();
    const planB = await nextEvent(streamB);
    assert.equal(planB.case, "plan");
    if (planB.case !== "plan") return;
    assert.ok(planB.value.transfers.length > 0);
    assert.ok(
      planB.value.transfers.every((t) => t.fromServerId === idA && t.fromAddress === peerAddress),
    );

    // C asks while B's join runs: it is told to wait.
    const waitingC = new AbortController();
    const streamC = c.join("127.0.0.1:2", waitingC.signal)[Symbol.asyncIterator]();
    const queued = await nextEvent(streamC);
    assert.equal(queued.case, "queued");
    if (queued.case === "queued") assert.equal(queued.value.waitingFor, idB);
    waitingC.abort();
    await streamC.return?.();

    assert.equal(await b.joinCopied(planB.value.joinId), 2);
    assert.equal(releases.length, 0, "nothing is released before the new owner confirms");

    // The central server restarts after the switch, before the release.
    await coordinator.stop();
    await assert.rejects(streamB.next());
    await startCoordinator();
    assert.equal(coordinator.currentRing().version, 2);
    const status = await coordinator.clusterStatus();
    assert.deepEqual(status.join, { serverId: idB, stage: "finish" });

    const resumed = b.join("127.0.0.1:1", new AbortController().signal)[Symbol.asyncIterator]();
    const again = await nextEvent(resumed);
    assert.equal(again.case, "plan");
    if (again.case !== "plan") return;
    assert.equal(again.value.joinId, planB.value.joinId);
    assert.equal(again.value.phase, JoinPhase.FINISH);
    assert.equal(releases.length, 0);
    assert.equal(await b.joinCompleted(again.value.joinId, 7, 700), 2);
    assert.equal(releases.length, 1);
    assert.equal(releases[0]!.ringVersion, 2n);
    assert.deepEqual(
      releases[0]!.ranges.map((r) => [r.start, r.end]),
      again.value.transfers.map((t) => [t.range!.start, t.range!.end]),
    );
    assert.equal((await nextEvent(resumed)).case, "done");
    const after = await coordinator.clusterStatus();
    assert.equal(after.join, null);
    assert.equal(after.lastJoin?.serverId, idB);
    assert.equal(after.lastJoin?.movedKeys, 7);
  });

  void test("a server that goes away before the switch cancels its join; the ring stays", async () => {
    const c = link(idC);
    const leaving = new AbortController();
    const stream = c.join("127.0.0.1:2", leaving.signal)[Symbol.asyncIterator]();
    const plan = await nextEvent(stream);
    assert.equal(plan.case, "plan");
    leaving.abort();
    await stream.return?.();
    await eventually(
      async () => (await coordinator.clusterStatus()).join === null,
      "the join is cancelled",
    );
    assert.equal(coordinator.currentRing().version, 2);
    assert.equal(coordinator.currentRing().node(idC), undefined);
    // And it stays cancelled across a restart.
    await coordinator.stop();
    await startCoordinator();
    assert.equal(coordinator.currentRing().version, 2);
    assert.equal((await coordinator.clusterStatus()).join, null);
  });

  void test("status asks each server for its keys and bytes and reports one that does not answer", async () => {
    const status = await coordinator.clusterStatus();
    assert.equal(status.ringVersion, 2);
    const a = status.servers.find((s) => s.serverId === idA)!;
    const b = status.servers.find((s) => s.serverId === idB)!;
    assert.deepEqual([a.reachable, a.keys, a.bytes], [true, 5, 500]);
    assert.deepEqual([b.reachable, b.keys, b.bytes], [false, null, null]);
    assert.ok(Math.abs(a.share + b.share - 1) < 1e-9);
  });

  void test("a member that moves gets a new ring version with its new address", async () => {
    const a = link(idA);
    const moved = `127.0.0.1:${Number(peerAddress.split(":")[1])}`;
    const result = await a.register(moved.replace("127.0.0.1", "localhost"));
    assert.equal(result.member, true);
    assert.equal(result.ring.version, 3);
    assert.equal(
      coordinator.currentRing().node(idA)?.address,
      moved.replace("127.0.0.1", "localhost"),
    );
  });
});
