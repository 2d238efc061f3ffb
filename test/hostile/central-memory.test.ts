// Observations 1 and 2 of issue 10, replayed against the real central server
// process with raw sockets: huge frames before the hello, a huge frame of
// unknown fields from a logged-in client, partial frames left hanging and
// bytes trickling in. Each time the hostile connection is refused or dropped,
// a well-behaved client keeps being served (answered, never dropped), what it
// was acknowledged is still there, and the server's resident memory grows by
// less than RSS_GROWTH_BOUND_MIB over its own figure after start (the
// observations grew it by 1-2.5 GB). The bound covers the 48 MiB partial-frame
// cap, the frame-parsing worker and the copies of one 16 MiB frame.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CentralClient } from "../../src/client/central-client.ts";
import { ErrorCode as WireCode } from "../../src/gen/albumshare/central/v1/central_pb.ts";
import { CentralProcess, makeTempDir } from "../central/helpers/central-process.ts";
import { RawConnection } from "../central/helpers/raw-connection.ts";
import { eventually } from "../support/eventually.ts";

// Measured 139-165 MiB of growth on a quiet machine and up to 196 MiB on a
// loaded one (garbage collection runs later there); the observations grew it
// by 1-2.5 GB, so this bound still catches them by far.
const RSS_GROWTH_BOUND_MIB = 256;
const IDLE_TIMEOUT_MS = 3000;
const MAX_BUFFERED_BYTES = 48 * 1024 * 1024;
const MiB = 1024 * 1024;

/** A length prefix announcing `length` bytes. */
const prefix = (length: number): Buffer => {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(length, 0);
  return header;
};

// 16 MiB of field 99 (varint 1) repeated: a frame no schema knows, whose
// naive decoding keeps millions of unknown-field records. Shared by every
// sender, so the test itself stays small.
const UNKNOWN_FIELDS = (() => {
  const body = Buffer.alloc(16 * MiB - ((16 * MiB) % 3));
  for (let at = 0; at < body.length; at += 3) body.set([0x98, 0x06, 0x01], at);
  return body;
})();

describe("central server memory under hostile frames", () => {
  const temp = makeTempDir("albumshare-hostile-memory-");
  let server: CentralProcess;
  let good: CentralClient;
  const acknowledged: string[] = [];
  const raws: RawConnection[] = [];
  let peakRssMiB = 0;
  let baselineRssMiB = 0;
  const assertRssBounded = (): void => {
    const growth = peakRssMiB - baselineRssMiB;
    assert.ok(
      growth < RSS_GROWTH_BOUND_MIB,
      `RSS grew by ${growth.toFixed(0)} MiB (from ${baselineRssMiB.toFixed(0)} MiB)`,
    );
  };

  const sampleRss = (): void => {
    peakRssMiB = Math.max(peakRssMiB, server.rssMiB());
  };

  /** One round of the well-behaved client: a durable write and a read, both answered. */
  const goodRound = async (): Promise<void> => {
    const name = `good-${acknowledged.length}`;
    await good.createAlbum(name);
    acknowledged.push(name);
    const albums = await good.listAlbums();
    assert.ok(albums.some((album) => album.name === name));
    sampleRss();
  };

  const open = async (localAddress?: string): Promise<RawConnection> => {
    const raw = await RawConnection.open(server.port, localAddress);
    raws.push(raw);
    return raw;
  };

  before(async () => {
    server = await CentralProcess.start(temp.dir, 30_000, [
      "--idle-timeout-ms",
      String(IDLE_TIMEOUT_MS),
      "--max-buffered-bytes",
      String(MAX_BUFFERED_BYTES),
    ]);
    const setup = await CentralClient.connect({ address: server.address });
    await setup.register("good-user", "good-password");
    await setup.register("hostile", "hostile-password");
    setup.close();
    good = await CentralClient.connect({ address: server.address });
    await good.login("good-user", "good-password");
    await goodRound();
    baselineRssMiB = server.rssMiB();
  });

  after(async () => {
    for (const raw of raws) raw.destroy();
    good?.close();
    await server?.stop();
    temp.remove();
  });

  test("huge frames before the hello are refused at their length prefix (obs. 1 and 2)", async () => {
    const hostile = await Promise.all(Array.from({ length: 8 }, () => open("127.0.0.2")));
    for (const raw of hostile) {
      raw.write(prefix(16 * MiB));
      raw.write(UNKNOWN_FIELDS);
    }
    // 40 more announcing 16 MiB and sending part of it, as in observation 2.
    const partial = await Promise.all(Array.from({ length: 40 }, () => open("127.0.0.2")));
    for (const raw of partial) {
      raw.write(prefix(16 * MiB));
      raw.write(UNKNOWN_FIELDS.subarray(0, MiB));
    }
    for (const raw of [...hostile, ...partial]) {
      const outcome = await raw.errorOrClose();
      const error = outcome.frames.find((f) => f.body.case === "error");
      assert.ok(error?.body.case === "error", "an error frame before the close");
      assert.equal(error.body.value.code, WireCode.RESOURCE_EXHAUSTED);
      assert.equal(
        error.body.value.message,
        "frame of 16777216 bytes exceeds the limit of 8192 bytes before login",
      );
      await raw.until(() => raw.closed, "the server closing the connection");
      await goodRound();
    }
    assertRssBounded();
  });

  test("a logged-in client's 16 MiB frame of unknown fields is parsed aside (obs. 1)", async () => {
    const hostile = await open();
    const login = await hostile.greetAndLogin("hostile", "hostile-password");
    assert.equal(login?.body.case, "login");
    for (let round = 0; round < 3; round++) {
      const before = hostile.frames.length;
      hostile.write(prefix(UNKNOWN_FIELDS.length));
      hostile.write(UNKNOWN_FIELDS);
      // While the frame is being parsed, the well-behaved client is answered.
      let servedMeanwhile = 0;
      while (hostile.frames.length === before && !hostile.closed) {
        await goodRound();
        servedMeanwhile++;
      }
      assert.ok(servedMeanwhile >= 1);
      const answer = hostile.frames[before];
      // Unknown fields are dropped: what is left is a request without an id.
      assert.ok(answer?.body.case === "error", "an error answer, the connection kept");
      assert.equal(answer.body.value.code, WireCode.INVALID_ARGUMENT);
      assert.equal(hostile.closed, false, answer.body.value.message);
    }
    sampleRss();
    assertRssBounded();
  });

  test("logging out lowers the frame limit again", async () => {
    const raw = await open();
    const login = await raw.greetAndLogin("hostile", "hostile-password");
    assert.equal(login?.body.case, "login");
    const logout = await raw.call(3n, { case: "logout", value: {} });
    assert.equal(logout?.body.case, "logout");
    raw.write(prefix(16 * 1024));
    const outcome = await raw.errorOrClose();
    const error = outcome.frames.find((f) => f.requestId === 0n && f.body.case === "error");
    assert.ok(error?.body.case === "error");
    assert.equal(
      error.body.value.message,
      "frame of 16384 bytes exceeds the limit of 8192 bytes before login",
    );
    await goodRound();
  });

  test("bytes trickling into a frame do not keep a connection alive (obs. 2)", async () => {
    const tricklers = await Promise.all(Array.from({ length: 20 }, () => open("127.0.0.3")));
    for (const raw of tricklers) {
      await raw.call(1n, { case: "hello", value: { protocolVersion: 1, agent: "trickle" } });
      raw.write(prefix(4000));
    }
    // One byte per connection every 250 ms, for at most 4 idle timeouts.
    const trickle = setInterval(() => {
      for (const raw of tricklers) raw.write(Buffer.of(0));
    }, 250);
    try {
      await eventually(
        async () => {
          await goodRound();
          return tricklers.every((raw) => raw.closed);
        },
        "every trickling connection dropped for want of a whole frame",
        { timeoutMs: 4 * IDLE_TIMEOUT_MS + 30_000, pollMs: 200 },
      );
    } finally {
      clearInterval(trickle);
    }
    // The well-behaved client pings within the idle timeout and stays.
    await goodRound();
  });

  test("logged-in partial frames share one server-wide cap (obs. 2)", async () => {
    // The holders log in one after another (at most two password hashes run
    // at once); those already in send a whole frame each second meanwhile, so
    // on a loaded machine the 3 s idle timeout does not drop them first.
    const holders: RawConnection[] = [];
    let keepAliveId = 1000n;
    const keepAlive = setInterval(() => {
      for (const raw of holders) raw.request(keepAliveId++, { case: "listAlbums", value: {} });
    }, 1000);
    try {
      for (let i = 0; i < 4; i++) {
        const raw = await open();
        const login = await raw.greetAndLogin("hostile", "hostile-password");
        assert.equal(login?.body.case, "login");
        holders.push(raw);
      }
    } finally {
      clearInterval(keepAlive);
    }
    // Each announces 16 MiB and sends 15 MiB: three fit in 48 MiB, a fourth does not.
    for (const raw of holders) {
      raw.write(prefix(16 * MiB));
      raw.write(UNKNOWN_FIELDS.subarray(0, 15 * MiB));
    }
    await eventually(
      async () => {
        await goodRound();
        return holders.some((raw) => raw.closed);
      },
      "the connection that passed the cap refused",
      { pollMs: 200 },
    );
    const refused = holders.filter((raw) =>
      raw.frames.some(
        (f) =>
          f.body.case === "error" &&
          f.body.value.code === WireCode.RESOURCE_EXHAUSTED &&
          /partial frames/.test(f.body.value.message),
      ),
    );
    assert.ok(refused.length >= 1, "at least one holder refused by the buffer cap");
    // The rest trickle, and are dropped for want of progress.
    const trickle = setInterval(() => {
      for (const raw of holders) raw.write(Buffer.of(0));
    }, 250);
    try {
      await eventually(
        async () => {
          await goodRound();
          return holders.every((raw) => raw.closed);
        },
        "every holder of a partial frame dropped",
        { timeoutMs: 4 * IDLE_TIMEOUT_MS + 30_000, pollMs: 200 },
      );
    } finally {
      clearInterval(trickle);
    }
    assertRssBounded();
    // Nothing acknowledged was lost.
    const names = new Set((await good.listAlbums()).map((album) => album.name));
    for (const name of acknowledged) assert.ok(names.has(name), `album ${name} kept`);
    assert.ok(server.isAlive);
  });
});
