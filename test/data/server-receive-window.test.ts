// The data server's gRPC connections advertise wide HTTP/2 receive windows
// (grpc-js has no option for it; see src/common/grpc/server-receive-window.ts):
// a real grpc-js server on 127.0.0.1 and a plain HTTP/2 client reading the
// SETTINGS the server sends.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, type Settings } from "node:http2";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { widenReceiveWindows } from "../../src/common/grpc/server-receive-window.ts";

const WINDOW = 4 * 1024 * 1024;

test("every accepted connection advertises the wide stream window", async () => {
  const server = new Server();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  assert.equal(widenReceiveWindows(server, WINDOW), true);
  const session = connect(`http://127.0.0.1:${port}`);
  try {
    const advertised = await new Promise<Settings>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no wide window advertised")), 10_000);
      session.on("remoteSettings", (settings) => {
        if (settings.initialWindowSize === WINDOW) {
          clearTimeout(timer);
          resolve(settings);
        }
      });
      session.on("error", reject);
    });
    assert.equal(advertised.initialWindowSize, WINDOW);
  } finally {
    session.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  }
});

test("a server that was never bound has nothing to widen", () => {
  assert.equal(widenReceiveWindows(new Server(), WINDOW), false);
});
