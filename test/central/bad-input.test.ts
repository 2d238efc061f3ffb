// Hostile and broken input on the central server's TCP port: truncated frames,
// oversized length prefixes, garbage, frames that are not ClientFrames, unknown
// request types, no hello, a wrong protocol version, and thousands of seeded
// random byte strings. Each time the server answers with an error or closes
// that connection, while a well-behaved client keeps being served.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { CentralClient } from "../../src/client/central-client.ts";
import { encodeFrame } from "../../src/protocol/frame-decoder.ts";
import {
  ClientFrameSchema,
  ErrorCode as WireCode,
  ServerFrameSchema,
} from "../../src/gen/albumshare/central/v1/central_pb.ts";
import { CentralProcess, makeTempDir } from "./helpers/central-process.ts";
import { RawConnection, type Outcome } from "./helpers/raw-connection.ts";

const helloFrame = (version = 1): Buffer =>
  encodeFrame(
    toBinary(
      ClientFrameSchema,
      create(ClientFrameSchema, {
        requestId: 1n,
        body: { case: "hello", value: { protocolVersion: version, agent: "bad-input-test" } },
      }),
    ),
  );

const listAlbumsFrame = (requestId: bigint): Buffer =>
  encodeFrame(
    toBinary(
      ClientFrameSchema,
      create(ClientFrameSchema, { requestId, body: { case: "listAlbums", value: {} } }),
    ),
  );

function errorOf(outcome: Outcome): { code: WireCode; message: string } | undefined {
  const frame = outcome.frames.find((f) => f.body.case === "error");
  return frame?.body.case === "error" ? frame.body.value : undefined;
}

describe("bad input on the central TCP port", () => {
  const temp = makeTempDir("albumshare-bad-input-");
  let server: CentralProcess;
  let good: CentralClient;
  const raws: RawConnection[] = [];
  const open = async (): Promise<RawConnection> => {
    const raw = await RawConnection.open(server.port);
    raws.push(raw);
    return raw;
  };
  /** An open connection past the hello exchange. */
  const greeted = async (): Promise<RawConnection> => {
    const raw = await open();
    raw.write(helloFrame());
    await raw.until(() => raw.frames.some((f) => f.body.case === "hello"), "the hello reply");
    return raw;
  };

  before(async () => {
    server = await CentralProcess.start(temp.dir);
    good = await CentralClient.connect({ address: server.address });
    await good.register("steady", "steady-password");
    await good.login("steady", "steady-password");
    await good.createAlbum("steady-album");
  });

  after(async () => {
    good.close();
    for (const raw of raws) raw.destroy();
    await server.stop();
    temp.remove();
  });

  const goodClientStillWorks = async (): Promise<void> => {
    assert.deepEqual(
      (await good.listAlbums()).map((a) => a.name),
      ["steady-album"],
    );
  };

  test("an oversized length prefix gets resource_exhausted and the close", async () => {
    const raw = await open();
    raw.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    const outcome = await raw.until(() => raw.closed, "the close");
    assert.equal(errorOf(outcome)?.code, WireCode.RESOURCE_EXHAUSTED);
    await goodClientStillWorks();
  });

  test("an oversized prefix after the hello is refused too", async () => {
    const raw = await greeted();
    raw.write(Buffer.from([0x7f, 0x00, 0x00, 0x00, 1, 2, 3]));
    const outcome = await raw.until(() => raw.closed, "the close");
    assert.equal(errorOf(outcome)?.code, WireCode.RESOURCE_EXHAUSTED);
  });

  test("a truncated frame then the end of input closes the connection", async () => {
    const raw = await open();
    const hello = helloFrame();
    raw.write(hello.subarray(0, hello.length - 3));
    raw.socket.end();
    const outcome = await raw.until(() => raw.closed, "the close");
    assert.equal(
      outcome.frames.some((f) => f.body.case === "hello"),
      false,
    );
    await goodClientStillWorks();
  });

  test("a truncated length prefix then the end of input closes the connection", async () => {
    const raw = await greeted();
    raw.write(Buffer.from([0, 0]));
    raw.socket.end();
    await raw.until(() => raw.closed, "the close");
  });

  test("garbage bytes get an error or the close", async () => {
    const raw = await open();
    // A plausible length followed by bytes that are not protobuf.
    raw.write(Buffer.from([0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    const outcome = await raw.errorOrClose();
    const error = errorOf(outcome);
    if (error) assert.equal(error.code, WireCode.INVALID_ARGUMENT);
    await goodClientStillWorks();
  });

  test("an HTTP request is garbage too", async () => {
    const raw = await open();
    raw.write(Buffer.from("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    // "GET " announces a ~1.2 GB frame: over the limit.
    const outcome = await raw.until(() => raw.closed, "the close");
    assert.equal(errorOf(outcome)?.code, WireCode.RESOURCE_EXHAUSTED);
  });

  test("a frame that is not a ClientFrame is refused", async () => {
    const raw = await greeted();
    // Field 1 (request_id) with wire type 2 and a length running past the end.
    raw.write(encodeFrame(Buffer.from([0x0a, 0x7f, 0x01])));
    const outcome = await raw.errorOrClose(1);
    const error = errorOf(outcome);
    assert.ok(error, "an error frame");
    assert.equal(error.code, WireCode.INVALID_ARGUMENT);
  });

  test("a ServerFrame sent as a request is an unknown request type", async () => {
    const raw = await greeted();
    // ServerFrame.error is field 2, which ClientFrame does not have.
    const serverFrame = create(ServerFrameSchema, {
      requestId: 5n,
      body: { case: "error", value: { code: WireCode.INTERNAL, message: "not a request" } },
    });
    raw.write(encodeFrame(toBinary(ServerFrameSchema, serverFrame)));
    const outcome = await raw.errorOrClose(1);
    assert.equal(errorOf(outcome)?.code, WireCode.INVALID_ARGUMENT);
  });

  test("an unknown oneof field gets invalid_argument and the connection stays usable", async () => {
    const raw = await greeted();
    // request_id = 7, then field 99 (not in the schema), length-delimited, empty.
    raw.write(encodeFrame(Buffer.from([0x08, 0x07, 0x9a, 0x06, 0x00])));
    const outcome = await raw.errorOrClose(1);
    const error = errorOf(outcome);
    assert.ok(error, "an error frame");
    assert.equal(error.code, WireCode.INVALID_ARGUMENT);
    assert.match(error.message, /unknown request type/);
    assert.equal(outcome.frames.find((f) => f.body.case === "error")?.requestId, 7n);
    if (!raw.closed) {
      // Still in sync: the next request is answered (not logged in here).
      const before = raw.frames.length;
      raw.write(listAlbumsFrame(8n));
      await raw.until(() => raw.frames.length > before || raw.closed, "a reply");
      const reply = raw.frames[before];
      assert.equal(reply?.requestId, 8n);
      assert.equal(reply?.body.case, "error");
      if (reply?.body.case === "error")
        assert.equal(reply.body.value.code, WireCode.UNAUTHENTICATED);
    }
  });

  test("request id 0 is refused", async () => {
    const raw = await greeted();
    raw.write(listAlbumsFrame(0n));
    const outcome = await raw.errorOrClose(1);
    assert.equal(errorOf(outcome)?.code, WireCode.INVALID_ARGUMENT);
  });

  test("a request before the hello is refused and the connection closed", async () => {
    const raw = await open();
    raw.write(listAlbumsFrame(3n));
    const outcome = await raw.until(() => raw.closed, "the close");
    const error = errorOf(outcome);
    assert.equal(error?.code, WireCode.FAILED_PRECONDITION);
    assert.match(error.message, /hello/);
  });

  test("a wrong protocol version gets a clear error naming both versions", async () => {
    const raw = await open();
    raw.write(helloFrame(2));
    const outcome = await raw.until(() => raw.closed, "the close");
    const error = errorOf(outcome);
    assert.equal(error?.code, WireCode.FAILED_PRECONDITION);
    assert.match(error.message, /version 2/);
    assert.match(error.message, /version 1/);
  });

  test("a second hello is refused", async () => {
    const raw = await greeted();
    raw.write(helloFrame());
    const outcome = await raw.errorOrClose(1);
    assert.equal(errorOf(outcome)?.code, WireCode.FAILED_PRECONDITION);
  });

  test("thousands of seeded random frame payloads after a hello", async () => {
    const payloads = fc.sample(fc.uint8Array({ minLength: 0, maxLength: 64 }), {
      seed: 42,
      numRuns: 2000,
    });
    let raw = await greeted();
    let answered = 0;
    let closes = 0;
    for (const payload of payloads) {
      if (raw.closed) {
        closes++;
        raw = await greeted();
      }
      const seen = raw.frames.length;
      raw.write(encodeFrame(payload));
      // Every payload is either a request (answered: it cannot be a valid
      // logged-in request) or a protocol error (error frame, then close).
      await raw.until(() => raw.frames.length > seen || raw.closed, "a reply or the close");
      if (raw.frames.length > seen) answered++;
    }
    assert.ok(answered > 0);
    assert.ok(answered + closes >= payloads.length - 1);
    await goodClientStillWorks();
  });

  test("thousands of seeded random byte strings, each on a fresh connection", async () => {
    const strings = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 48 }), {
      seed: 4242,
      numRuns: 2000,
    });
    const batch = 50;
    for (let i = 0; i < strings.length; i += batch) {
      await Promise.all(
        strings.slice(i, i + batch).map(async (bytes) => {
          const raw = await RawConnection.open(server.port);
          try {
            raw.write(bytes);
            // Ending our side: whatever was incomplete is dropped with the connection.
            raw.socket.end();
            const outcome = await raw.until(() => raw.closed, "the close");
            for (const frame of outcome.frames)
              assert.ok(
                frame.body.case === "error" || frame.body.case === "hello",
                `unexpected ${frame.body.case}`,
              );
          } finally {
            raw.destroy();
          }
        }),
      );
      if (i % 500 === 0) await goodClientStillWorks();
    }
    await goodClientStillWorks();
  });

  test("after all the abuse the server is alive and a new client is served", async () => {
    assert.ok(server.isAlive, `server exited\n${server.stderr}`);
    const client = await CentralClient.connect({ address: server.address });
    try {
      await client.register("after-abuse", "after-abuse-pass");
      await client.login("after-abuse", "after-abuse-pass");
      await client.createAlbum("after-abuse-album");
      assert.deepEqual(
        (await client.listAlbums()).map((a) => a.name),
        ["after-abuse-album"],
      );
    } finally {
      client.close();
    }
    await goodClientStillWorks();
    assert.ok(server.isAlive);
  });
});
