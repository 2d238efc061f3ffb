// Resumed uploads against a real data server process on 127.0.0.1: an upload
// cut off midway (the server's stall timeout cancels it once every byte sent
// has arrived) leaves a partial; the same upload then sends only the rest and
// the stored content verifies. A hostile client that declares a partial for
// a key and sends garbage can never make wrong content appear under it.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import { GrpcConnection } from "../../src/common/grpc/client-calls.ts";
import { ClusterRingSource } from "../../src/client/data-transfer/cluster-ring-source.ts";
import { DataTransferClient } from "../../src/client/data-transfer/data-transfer-client.ts";
import { DataService } from "../../src/gen/albumshare/data/v1/data_pb.ts";
import { eventually } from "../support/eventually.ts";
import { holds, sha256, sha256OfPath } from "./helpers/cluster-files.ts";
import {
  TEST_CLUSTER_TOKEN,
  dataServerReady,
  spawnDataServer,
  startCoordinator,
  type FixtureProcess,
  type StartedDataServer,
} from "./helpers/process-harness.ts";

const MiB = 1024 * 1024;

void describe("resumed uploads (real data server)", () => {
  let root: string;
  let coordinator: { process: FixtureProcess; address: string };
  let server: StartedDataServer;
  let ringSource: ClusterRingSource;
  let client: DataTransferClient;
  let connection: GrpcConnection;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "albumshare-resume-"));
    coordinator = await startCoordinator(join(root, "central"));
    // A short stall timeout: a sender that stops is cut off by the server.
    server = await dataServerReady(
      spawnDataServer("data-0", coordinator.address, join(root, "data-0"), 0, {
        stallTimeoutMs: 1_000,
      }),
    );
    ringSource = new ClusterRingSource(coordinator.address, TEST_CLUSTER_TOKEN);
    await ringSource.refresh();
    client = new DataTransferClient(ringSource);
    connection = new GrpcConnection(server.address);
  });

  after(async () => {
    connection?.close();
    client?.close();
    ringSource?.close();
    await server?.process.stop();
    await coordinator?.process.stop();
    await rm(root, { recursive: true, force: true });
  });

  const stat = (key: string) => connection.unary(DataService.method.stat, { key });

  /**
   * Sends a header and `bytes`, then goes silent (never ending the stream):
   * the server's stall timeout cuts the upload off once all of it arrived.
   */
  async function cutOff(key: string, size: number, bytes: Buffer): Promise<void> {
    const call = connection.clientStream(DataService.method.upload);
    await call.send({ part: { case: "header", value: { key, size: BigInt(size) } } });
    for (let i = 0; i < bytes.length; i += MiB)
      await call.send({ part: { case: "chunk", value: bytes.subarray(i, i + MiB) } });
    await eventually(
      async () => Number((await stat(key)).partialSize) === bytes.length,
      `a partial of ${bytes.length} bytes`,
    );
    call.cancel();
    await call.finish().catch(() => undefined);
  }

  void test("an upload cut midway resumes: only the rest is sent, and the content verifies", async () => {
    const bytes = randomBytes(6 * MiB + 123);
    const path = join(root, "big.bin");
    await writeFile(path, bytes);
    const key = sha256(bytes);
    await cutOff(key, bytes.length, bytes.subarray(0, 3 * MiB));
    const held = await stat(key);
    assert.equal(held.exists, false);
    assert.equal(
      Buffer.from(held.partialSha256).toString("hex"),
      sha256(bytes.subarray(0, 3 * MiB)),
    );

    const sent: number[] = [];
    const result = await client.upload(path, (p) => {
      if (p.phase === "uploading") sent.push(p.doneBytes);
    });
    assert.deepEqual(result, {
      key,
      size: bytes.length,
      alreadyPresent: false,
      resumedFrom: 3 * MiB,
    });
    // Progress starts past the resumed part: chunks 4, 5, 6 MiB and the tail.
    assert.deepEqual(sent, [4 * MiB, 5 * MiB, 6 * MiB, bytes.length]);
    assert.ok(await holds(join(root, "data-0"), key));
    const back = join(root, "big.back");
    await client.download(key, back);
    assert.equal(await sha256OfPath(back), key);
    assert.deepEqual(await readdir(join(root, "data-0", "partial")), []);
  });

  void test("garbage declared as a partial never becomes content under the key", async () => {
    const bytes = randomBytes(4 * MiB + 9);
    const path = join(root, "honest.bin");
    await writeFile(path, bytes);
    const key = sha256(bytes);
    const garbage = randomBytes(2 * MiB);

    // 1. Garbage, then the true rest: the whole does not hash to the key.
    await cutOff(key, bytes.length, garbage);
    const call = connection.clientStream(DataService.method.upload);
    await call.send({
      part: {
        case: "header",
        value: { key, size: BigInt(bytes.length), offset: BigInt(2 * MiB) },
      },
    });
    await call.send({ part: { case: "chunk", value: bytes.subarray(2 * MiB) } });
    await assert.rejects(call.finish(), (error: unknown) => {
      const album = AlbumError.from(error);
      assert.equal(album.code, ErrorCode.InvalidArgument, album.message);
      assert.match(album.message, /does not hash to its key/);
      return true;
    });
    assert.equal((await stat(key)).exists, false);
    assert.equal(Number((await stat(key)).partialSize), 0, "a mismatched partial is not kept");

    // 2. A resume at an offset the server does not hold is refused.
    const wrong = connection.clientStream(DataService.method.upload);
    await wrong.send({
      part: { case: "header", value: { key, size: BigInt(bytes.length), offset: 5n } },
    });
    await assert.rejects(wrong.finish(), (error: unknown) => {
      assert.equal(AlbumError.from(error).code, ErrorCode.NotFound);
      return true;
    });

    // 3. Garbage left as a partial: the honest client sees its hash differ and sends everything.
    await cutOff(key, bytes.length, garbage);
    const result = await client.upload(path);
    assert.deepEqual(result, { key, size: bytes.length, alreadyPresent: false });
    const back = join(root, "honest.back");
    await client.download(key, back);
    assert.deepEqual(await readFile(back), bytes);
    assert.deepEqual(await readdir(join(root, "data-0", "partial")), []);
  });
});
