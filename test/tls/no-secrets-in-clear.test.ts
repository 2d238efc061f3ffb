// Nothing secret crosses a link in the clear: the test's own TCP proxies sit
// between a client and the central server and between the client and the
// (only) data server, which advertises the proxy's address. One session —
// register, login, create an album, upload and download a file — runs over
// TLS, and the captured bytes are searched for the password, the file's
// content key (hex and raw) and a piece of its content. A control run in
// plaintext (--insecure) shows the same search does find the password.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { makeTempDir } from "../central/helpers/central-process.ts";
import { CliServer } from "../support/cli-server.ts";
import { runClientScript } from "../support/client-script.ts";
import { TcpProxy } from "../support/tcp-proxy.ts";
import { makeTestPki, type TestPki } from "./helpers/pki.ts";

const TOKEN = "capture-test-cluster-token";
const PASSWORD = "Sup3r-secret-passphrase";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

function contains(captured: readonly Buffer[], needle: Buffer): boolean {
  return Buffer.concat(captured).includes(needle);
}

describe("no password or content key crosses a link in the clear", () => {
  const temp = makeTempDir("albumshare-capture-");
  const servers: CliServer[] = [];
  const proxies: TcpProxy[] = [];
  let pki: TestPki;

  before(() => {
    pki = makeTestPki(temp.dir);
  });

  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await Promise.all(servers.map((s) => s.stop()));
    temp.remove();
  });

  test("a whole session over TLS leaks none of them", async () => {
    const central = await CliServer.start([
      ...["central", "--host", "127.0.0.1", "--port", "0", "--cluster-port", "0"],
      ...["--cluster-token", TOKEN, "--dir", join(temp.dir, "central"), "--log-level", "warn"],
      ...pki.serverArgs,
    ]);
    servers.push(central);
    const dataPort = await freePort();
    const dataProxy = await TcpProxy.start(dataPort, "127.0.0.1", { capture: true });
    const centralProxy = await TcpProxy.start(central.listening.port, "127.0.0.1", {
      capture: true,
    });
    proxies.push(dataProxy, centralProxy);
    servers.push(
      await CliServer.start([
        ...["data", "--central", `127.0.0.1:${central.listening.clusterPort}`],
        ...["--host", "127.0.0.1", "--port", String(dataPort), "--advertise", dataProxy.address],
        ...["--cluster-token", TOKEN, "--dir", join(temp.dir, "data"), "--log-level", "warn"],
        ...pki.serverArgs,
      ]),
    );
    const content = randomBytes(256 * 1024);
    const file = join(temp.dir, "photo.jpg");
    writeFileSync(file, content);
    const key = createHash("sha256").update(content).digest();
    const run = await runClientScript(
      ["--central", centralProxy.address, ...pki.clientArgs],
      [
        `register carol ${PASSWORD}`,
        `login carol ${PASSWORD}`,
        "createAlbum trip",
        "getAlbum trip",
        `addFile ${file}`,
        `downloadFile photo.jpg ${join(temp.dir, "back.jpg")}`,
      ],
    );
    for (const result of run.results) assert.equal(result.ok, true, JSON.stringify(result));
    assert.deepEqual(readFileSync(join(temp.dir, "back.jpg")), content);
    // The file went both ways through the data proxy: the capture saw the transfer.
    const dataBytes = dataProxy.captured.reduce((sum, chunk) => sum + chunk.length, 0);
    assert.ok(dataBytes > 2 * content.length, `only ${dataBytes} bytes passed the data proxy`);
    assert.ok(centralProxy.captured.length > 0);
    const captured = [...centralProxy.captured, ...dataProxy.captured];
    assert.equal(contains(captured, Buffer.from(PASSWORD)), false, "the password");
    assert.equal(contains(captured, key), false, "the content key");
    assert.equal(
      contains(captured, Buffer.from(key.toString("hex"))),
      false,
      "the content key (hex)",
    );
    assert.equal(contains(captured, content.subarray(1000, 1064)), false, "the content");
  });

  test("control: in plaintext the same capture finds the password", async () => {
    const central = await CliServer.start([
      ...["central", "--host", "127.0.0.1", "--port", "0", "--insecure"],
      ...["--dir", join(temp.dir, "plain"), "--log-level", "warn"],
    ]);
    servers.push(central);
    const proxy = await TcpProxy.start(central.listening.port, "127.0.0.1", { capture: true });
    proxies.push(proxy);
    const run = await runClientScript(
      ["--central", proxy.address, "--insecure"],
      [`register dave ${PASSWORD}`],
    );
    assert.equal(run.results[0]?.ok, true, run.stderr);
    assert.equal(contains(proxy.captured, Buffer.from(PASSWORD)), true);
  });
});
