// `albumshare status` against real processes: the central server and two data
// servers started through the CLI; the status command reports both servers
// with shares that cover the key space, and a wrong token fails with exit 1
// and one clear line.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { albumshareBin, CliServer } from "../support/cli-server.ts";

const TOKEN = "status-test-cluster-token-0123456789";

/** Runs a CLI command to completion. */
async function runCli(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [albumshareBin, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

void describe("albumshare status", () => {
  const servers: CliServer[] = [];
  let root: string;
  let cluster: string;
  const serverIds: string[] = [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "albumshare-status-"));
    const central = await CliServer.start([
      "central",
      "--port",
      "0",
      "--cluster-port",
      "0",
      "--dir",
      join(root, "central"),
      "--cluster-token",
      TOKEN,
      "--log-level",
      "warn",
    ]);
    servers.push(central);
    cluster = `127.0.0.1:${central.listening.clusterPort}`;
    // One at a time: each prints its line once it has joined.
    for (const name of ["data-1", "data-2"]) {
      const data = await CliServer.start([
        "data",
        "--central",
        cluster,
        "--port",
        "0",
        "--dir",
        join(root, name),
        "--cluster-token",
        TOKEN,
        "--log-level",
        "warn",
      ]);
      servers.push(data);
      serverIds.push(data.listening.serverId!);
    }
  });

  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await rm(root, { recursive: true, force: true });
  });

  void test("--json reports both servers, their shares covering the key space", async () => {
    const result = await runCli([
      "status",
      "--central",
      cluster,
      "--cluster-token",
      TOKEN,
      "--json",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const status = JSON.parse(result.stdout) as {
      ringVersion: number;
      servers: {
        serverId: string;
        share: number;
        reachable: boolean;
        keys: number;
        bytes: number;
      }[];
    };
    assert.ok(status.ringVersion >= 2);
    assert.deepEqual(status.servers.map((s) => s.serverId).sort(), [...serverIds].sort());
    const total = status.servers.reduce((sum, s) => sum + s.share, 0);
    assert.ok(Math.abs(total - 1) < 1e-6, `shares sum to ${total}`);
    for (const server of status.servers) {
      assert.equal(server.reachable, true);
      assert.equal(server.keys, 0);
      assert.equal(server.bytes, 0);
    }
  });

  void test("the table names every server", async () => {
    const result = await runCli(["status", "--central", cluster, "--cluster-token", TOKEN]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^ring version \d+, 2 data server\(s\)/);
    for (const id of serverIds) assert.ok(result.stdout.includes(id), result.stdout);
  });

  void test("a wrong token fails with exit 1 and one clear line", async () => {
    const result = await runCli([
      "status",
      "--central",
      cluster,
      "--cluster-token",
      "not-the-cluster-token-at-all",
    ]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    const lines = result.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, /^albumshare: .*wrong cluster token$/);
  });
});
