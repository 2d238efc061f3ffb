// Observation 7 of issue 10, against a real data-server process limited to
// 256 open files (`ulimit -n 256`): a flood of upload streams that send a
// header and one byte and then idle, and of downloads that are never read,
// all over a few connections. While they hang, a well-behaved client's
// uploads and downloads are served; every hostile stream is ended by the
// server within its stall timeout; the server never holds more than its
// transfer budget of content files, its memory stays bounded, and nothing it
// acknowledged is lost. No unhandled rejection is ever logged.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { ClusterRingSource } from "../../src/client/data-transfer/cluster-ring-source.ts";
import { DataTransferClient } from "../../src/client/data-transfer/data-transfer-client.ts";
import { UNHANDLED_REJECTION_MESSAGE } from "../../src/common/unhandled-rejections.ts";
import { FILE_HANDLE_RESERVE } from "../../src/data/file-handle-budget.ts";
import { makeFile, sha256OfPath } from "../data/helpers/cluster-files.ts";
import {
  dataServerReady,
  spawnDataServer,
  startCoordinator,
  TEST_CLUSTER_TOKEN,
  type FixtureProcess,
  type StartedDataServer,
} from "../data/helpers/process-harness.ts";
import { eventually } from "../support/eventually.ts";
import { openFilesUnder, openPathsUnder, residentBytes } from "../support/proc-stats.ts";
import { HostileDataClient, type StreamOutcome } from "./helpers/hostile-data-client.ts";

const OPEN_FILE_LIMIT = 256;
const TRANSFER_BUDGET = OPEN_FILE_LIMIT - FILE_HANDLE_RESERVE;
const STALL_TIMEOUT_MS = 3_000;
const STALLED_UPLOADS = 600;
const UNREAD_DOWNLOADS = 40;
/** The server's memory bound under the flood (an idle server uses ~90 MiB through tsx). */
const RSS_BOUND = 400 * 1024 * 1024;

void describe(
  "hostile gRPC clients: stalled streams against a data server",
  { timeout: 180_000 },
  () => {
    let root: string;
    let coordinator: { process: FixtureProcess; address: string };
    let server: StartedDataServer;
    let dataDir: string;
    let ringSource: ClusterRingSource;
    let client: DataTransferClient;
    let hostile: HostileDataClient;

    before(async () => {
      root = await mkdtemp(join(tmpdir(), "albumshare-hostile-stall-"));
      coordinator = await startCoordinator(join(root, "central"));
      dataDir = join(root, "data");
      server = await dataServerReady(
        spawnDataServer(
          "data",
          coordinator.address,
          dataDir,
          0,
          { stallTimeoutMs: STALL_TIMEOUT_MS },
          { openFileLimit: OPEN_FILE_LIMIT },
        ),
      );
      ringSource = new ClusterRingSource(coordinator.address, TEST_CLUSTER_TOKEN);
      await ringSource.refresh();
      client = new DataTransferClient(ringSource);
      hostile = new HostileDataClient(server.address, 4);
      await mkdir(join(root, "files"));
    });

    after(async () => {
      hostile?.close();
      client?.close();
      ringSource?.close();
      await server?.process.stop();
      await coordinator?.process.stop();
      await rm(root, { recursive: true, force: true });
    });

    // Files of contents being written (tmp/) or read (objects/); not the folder's lock.
    async function contentFilesOpen(): Promise<number> {
      const pid = server.process.pid;
      return (
        (await openFilesUnder(pid, join(dataDir, "tmp"))) +
        (await openFilesUnder(pid, join(dataDir, "objects")))
      );
    }

    async function roundTrip(name: string, size: number): Promise<string> {
      const file = await makeFile(join(root, "files"), name, size);
      const uploaded = await client.upload(file.path);
      assert.equal(uploaded.key, file.key);
      const copy = join(root, "files", `${name}.copy`);
      await client.download(file.key, copy);
      assert.equal(await sha256OfPath(copy), file.key);
      return file.key;
    }

    void test("uploads that stall after one byte: the well-behaved client is served, every stalled stream is ended", async () => {
      const acknowledged = [await roundTrip("before", 100_000)];
      const outcomes: Promise<StreamOutcome>[] = [];
      for (let i = 0; i < STALLED_UPLOADS; i++) {
        const key = randomBytes(32).toString("hex");
        outcomes.push(hostile.stalledUpload(key, 100 * 1024 * 1024, Buffer.from([i & 0xff])));
      }
      // Until their stall timeout the stalled uploads hold what the server allows.
      await eventually(
        async () => (await contentFilesOpen()) >= TRANSFER_BUDGET / 2,
        "the stalled uploads hold open files",
      );
      // The well-behaved client meanwhile: a 100 kB upload and its download.
      acknowledged.push(await roundTrip("during", 100_000));
      assert.ok(
        (await contentFilesOpen()) <= TRANSFER_BUDGET + 8,
        "no more content files open than the transfer budget",
      );
      assert.ok((await residentBytes(server.process.pid)) < RSS_BOUND, "memory stays bounded");

      const ended = await Promise.all(outcomes);
      const stored = ended.filter((o) => o.code === status.OK);
      assert.equal(stored.length, 0, "no stalled upload was acknowledged");
      const byCode = new Map<number, number>();
      for (const o of ended) byCode.set(o.code, (byCode.get(o.code) ?? 0) + 1);
      // Refused at once while the table was full of fresh streams, or cancelled for the stall.
      for (const [code, count] of byCode) {
        assert.ok(
          code === status.RESOURCE_EXHAUSTED || code === status.UNAVAILABLE,
          `${count} streams ended with ${status[code]}: ${ended.find((o) => o.code === code)?.details}`,
        );
      }
      assert.ok(
        ended.some((o) => /made no progress for 3 s/.test(o.details)),
        "the stall timeout is named",
      );
      await eventually(
        async () => (await contentFilesOpen()) === 0,
        "the server closes every file of the cancelled uploads",
      ).catch(async (error: unknown) => {
        const paths = await openPathsUnder(server.process.pid, dataDir);
        throw new Error(`${String(error)}: still open: ${paths.slice(0, 5).join(", ")}`);
      });
      acknowledged.push(await roundTrip("after", 100_000));
      for (const [i, key] of acknowledged.entries()) {
        const copy = join(root, "files", `check-${i}`);
        await client.download(key, copy);
        assert.equal(await sha256OfPath(copy), key, "nothing acknowledged is lost");
      }
      assert.ok(!server.process.log().includes(UNHANDLED_REJECTION_MESSAGE));
    });

    void test("downloads that are never read: cancelled after the stall timeout, others still served", async () => {
      const big = await makeFile(join(root, "files"), "big", 24 * 1024 * 1024);
      await client.upload(big.path);
      // A client that never reads never sees a status either (grpc-js delivers
      // it after the messages): the server's side is what is checked.
      for (let i = 0; i < UNREAD_DOWNLOADS; i++) void hostile.unreadDownload(big.key);
      await eventually(
        async () => (await contentFilesOpen()) >= UNREAD_DOWNLOADS / 2,
        "the unread downloads hold open files",
      );
      await roundTrip("while-unread", 300_000);
      assert.ok((await residentBytes(server.process.pid)) < RSS_BOUND, "memory stays bounded");
      await eventually(
        async () => (await contentFilesOpen()) === 0,
        "the server closes every file of the cancelled downloads",
      );
      await roundTrip("after-unread", 300_000);
      assert.ok(!server.process.log().includes(UNHANDLED_REJECTION_MESSAGE));
    });
  },
);
