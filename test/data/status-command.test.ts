// `albumshare status` against real processes: the central server and two data
// servers started through the CLI; the status command reports both servers
// with shares that cover the key space, and a wrong token fails with exit 1
// and one clear line.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const cli = join(repoRoot, "bin", "albumshare.js");
const TOKEN = "status-test-cluster-token-0123456789";

interface Listening {
  port: number;
  clusterPort?: number;
  serverId?: string;
}

/** Starts a long-running CLI process and waits for its `{"listening":...}` line. */
async function startCli(
  args: string[],
  children: ChildProcess[],
): Promise<{ child: ChildProcess; listening: Listening }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const lines = createInterface({ input: child.stdout! });
  const listening = await new Promise<Listening>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no listening line within 30 s\n${stderr}`)),
      30_000,
    );
    lines.on("line", (line) => {
      const parsed = JSON.parse(line) as { listening?: Listening };
      if (parsed.listening) {
        clearTimeout(timer);
        resolve(parsed.listening);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before listening\n${stderr}`));
    });
  });
  return { child, listening };
}

/** Runs a CLI command to completion. */
async function runCli(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

void describe("albumshare status", () => {
  const children: ChildProcess[] = [];
  let root: string;
  let cluster: string;
  const serverIds: string[] = [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "albumshare-status-"));
    const central = await startCli(
      [
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
      ],
      children,
    );
    cluster = `127.0.0.1:${central.listening.clusterPort}`;
    // One at a time: each prints its line once it has joined.
    for (const name of ["data-1", "data-2"]) {
      const data = await startCli(
        [
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
        ],
        children,
      );
      serverIds.push(data.listening.serverId!);
    }
  });

  after(async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, "exit");
        child.kill("SIGTERM");
        const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(force);
      }),
    );
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
