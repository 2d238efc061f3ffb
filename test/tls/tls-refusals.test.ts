// TLS between the client and the central server with real processes: a
// client with the system's CA works; a wrong CA, an expired server
// certificate, a plaintext client against a TLS server (and the reverse) are
// refused with one clear line naming the host and the reason; plaintext
// without --insecure, or on a non-loopback address, is refused at start.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { makeTempDir } from "../central/helpers/central-process.ts";
import { albumshareBin, CliServer, repoRoot } from "../support/cli-server.ts";
import { runClientScript, type ClientResult } from "../support/client-script.ts";
import { makeTestPki, type TestPki } from "./helpers/pki.ts";

const CLUSTER_TOKEN = "tls-refusal-cluster-token-0123";

const withoutInsecure = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.ALBUMSHARE_INSECURE;
  return env;
};

function central(dir: string, args: readonly string[]): Promise<CliServer> {
  return CliServer.start([
    "central",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--dir",
    dir,
    "--log-level",
    "warn",
    ...args,
  ]);
}

function failure(result: ClientResult | undefined): string {
  assert.ok(result, "the client printed no result");
  assert.equal(result.ok, false, `expected a refusal, got ${JSON.stringify(result)}`);
  return result.error;
}

describe("TLS on the client's link to the central server", () => {
  const temp = makeTempDir("albumshare-tls-");
  let pki: TestPki;
  let secure: CliServer;
  let expired: CliServer;
  let plaintext: CliServer;
  const address = (server: CliServer): string => `127.0.0.1:${server.listening.port}`;

  before(async () => {
    pki = makeTestPki(temp.dir);
    [secure, expired, plaintext] = await Promise.all([
      central(join(temp.dir, "secure"), [
        ...pki.serverArgs,
        ...["--cluster-port", "0", "--cluster-token", CLUSTER_TOKEN],
      ]),
      central(join(temp.dir, "expired"), [
        "--tls-cert",
        pki.expired.cert,
        "--tls-key",
        pki.expired.key,
        "--tls-ca",
        pki.expired.ca,
      ]),
      central(join(temp.dir, "plain"), ["--insecure"]),
    ]);
  });

  after(async () => {
    await Promise.all([secure?.stop(), expired?.stop(), plaintext?.stop()]);
    temp.remove();
  });

  test("a client with the system's CA registers over TLS", async () => {
    const run = await runClientScript(
      ["--central", address(secure), ...pki.clientArgs],
      ["register alice correct-horse-1"],
    );
    assert.equal(run.results[0]?.ok, true, run.stderr);
  });

  test("a server certificate from another CA is refused, naming the host and the reason", async () => {
    const run = await runClientScript(
      ["--central", address(secure), "--tls-ca", pki.otherCa],
      ["register bob correct-horse-1"],
    );
    const error = failure(run.results[0]);
    assert.match(error, new RegExp(`central server at ${address(secure)}`));
    assert.match(error, /its certificate was not issued by the CA given with --tls-ca/);
  });

  test("an expired server certificate is refused", async () => {
    const run = await runClientScript(
      ["--central", address(expired), ...pki.clientArgs],
      ["register bob correct-horse-1"],
    );
    const error = failure(run.results[0]);
    assert.match(error, new RegExp(`central server at ${address(expired)}`));
    assert.match(error, /certificate has expired \(CERT_HAS_EXPIRED\)/);
  });

  test("a plaintext client is told the server requires TLS", async () => {
    const run = await runClientScript(
      ["--central", address(secure), "--insecure"],
      ["register bob correct-horse-1"],
    );
    assert.match(failure(run.results[0]), /requires TLS: connect with --tls-ca/);
  });

  test("a TLS client against a plaintext server says the handshake failed", async () => {
    const run = await runClientScript(
      ["--central", address(plaintext), ...pki.clientArgs],
      ["register bob correct-horse-1"],
    );
    const error = failure(run.results[0]);
    assert.match(
      error,
      new RegExp(`TLS handshake with the central server at ${address(plaintext)} failed`),
    );
  });

  test("the gRPC cluster port checks the CA too, and names the host", () => {
    const status = (ca: string) =>
      spawnSync(
        process.execPath,
        [
          ...[albumshareBin, "status", "--central", `127.0.0.1:${secure.listening.clusterPort}`],
          ...["--cluster-token", CLUSTER_TOKEN, "--tls-ca", ca],
        ],
        { cwd: repoRoot, encoding: "utf8", timeout: 30_000 },
      );
    const good = status(pki.server.ca);
    assert.equal(good.status, 0, good.stderr);
    const wrong = status(pki.otherCa);
    assert.equal(wrong.status, 1);
    assert.match(
      wrong.stderr,
      new RegExp(
        `127\\.0\\.0\\.1:${secure.listening.clusterPort}: TLS handshake failed: its certificate was not issued by the CA given with --tls-ca`,
      ),
    );
  });

  test("a client without --tls-ca or --insecure does not start", () => {
    const run = spawnSync(
      process.execPath,
      [albumshareBin, "client", "--central", address(secure)],
      {
        cwd: repoRoot,
        env: withoutInsecure(),
        input: "",
        encoding: "utf8",
        timeout: 30_000,
      },
    );
    assert.equal(run.status, 1);
    assert.match(run.stderr, /no TLS configured: give --tls-ca/);
  });

  test("servers refuse plaintext on a non-loopback address, with the fix in one line", () => {
    for (const args of [
      ["central", "--host", "0.0.0.0", "--port", "0", "--dir", join(temp.dir, "wild")],
      ["data", "--host", "0.0.0.0", "--port", "0", "--dir", join(temp.dir, "wild-data")],
    ]) {
      const run = spawnSync(
        process.execPath,
        [albumshareBin, ...args, "--insecure", "--cluster-token", "x".repeat(24)],
        { cwd: repoRoot, encoding: "utf8", timeout: 30_000 },
      );
      assert.equal(run.status, 1, run.stderr);
      const lines = run.stderr.trim().split("\n");
      assert.equal(lines.length, 1, run.stderr);
      assert.match(
        lines[0]!,
        /refusing to listen on 0\.0\.0\.0 without TLS: give --tls-cert, --tls-key and --tls-ca/,
      );
    }
  });
});
