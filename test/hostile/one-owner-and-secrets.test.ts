// Observations 4 and 5 of issue 10, against `albumshare up` and the central
// server as real processes, started under umask 000: a second system on the
// same folder or ports and a second central server on the same folder are
// refused with one line naming the holder; folders are 0700 and the database
// and token files 0600 anyway; the cluster token appears on no command line
// (as `ps` shows them) and, like a user's password, in no log line.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CentralClient } from "../../src/client/central-client.ts";
import { busyPort } from "../../src/cli/port-probe.ts";
import {
  loadTransportSecurity,
  transportSecurity,
  useTransportSecurity,
} from "../../src/common/tls/transport-security.ts";
import { albumshareBin, makeTempDir, repoRoot } from "../central/helpers/central-process.ts";
import { eventually } from "../support/eventually.ts";

const PASSWORD = "secret-password-7f3a9c";

interface Run {
  child: ChildProcess;
  output: { text: string };
  exit: Promise<number | null>;
}

/** `albumshare <args>` under umask 000, its stdout and stderr kept together. */
function run(args: readonly string[]): Run {
  const child = spawn(
    "sh",
    ["-c", 'umask 000; exec "$0" "$@"', process.execPath, albumshareBin, ...args],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
  );
  const output = { text: "" };
  child.stdout!.on("data", (chunk: Buffer) => (output.text += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (output.text += chunk.toString("utf8")));
  return { child, output, exit: once(child, "exit").then(([code]) => code as number | null) };
}

/** Runs a command that must fail at once; returns its whole output. */
async function refused(args: readonly string[]): Promise<string> {
  const attempt = run(args);
  assert.equal(await attempt.exit, 1, attempt.output.text);
  return attempt.output.text;
}

/** A base port with it and the next two free on 127.0.0.1 (the system uses three). */
async function freePorts(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await busyPort("127.0.0.1", [base, base + 1, base + 2])) === undefined) return base;
  }
  throw new Error("no three free consecutive ports found");
}

/** Pids of the running children of `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        // The parent pid is the 2nd field after the parenthesised command name.
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const modeOf = (path: string): number => statSync(path).mode & 0o777;

describe("one owner per folder, private files, secrets kept out of sight", () => {
  const temp = makeTempDir("albumshare-hostile-owner-");
  const dir = join(temp.dir, "system");
  let port: number;
  let system: Run;

  before(async () => {
    port = await freePorts();
    system = run([
      "up",
      "--dir",
      dir,
      "--port",
      String(port),
      "--data-servers",
      "1",
      "--log-level",
      "debug",
    ]);
    await eventually(
      () => system.output.text.includes("AlbumSharing is up"),
      `albumshare up ready (output so far: ${system.output.text})`,
      { timeoutMs: 60_000, pollMs: 100 },
    );
  });

  after(async () => {
    if (system && system.child.exitCode === null) {
      system.child.kill("SIGTERM");
      await system.exit;
    }
    temp.remove();
  });

  test("a second system on the same folder or ports is refused with one line", async () => {
    const sameFolder = await refused(["up", "--dir", dir, "--port", String(port + 100)]);
    assert.equal(
      sameFolder,
      `albumshare up: already running: central on 127.0.0.1:${port}, data in ${dir} (pid ${system.child.pid})\n`,
    );
    const samePorts = await refused([
      "up",
      "--dir",
      join(temp.dir, "other"),
      "--port",
      String(port),
    ]);
    assert.equal(
      samePorts,
      `albumshare up: already running: 127.0.0.1:${port} is in use (another system?); stop it or choose another --port\n`,
    );
  });

  test("a second central server on the same folder is refused, naming the holder", async () => {
    const [centralPid] = childrenOf(system.child.pid!).filter((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes("central"),
    );
    assert.ok(centralPid, "the central server runs as a child of up");
    const line = await refused([
      "central",
      "--dir",
      join(dir, "central"),
      "--port",
      "0",
      "--cluster-port",
      "0",
    ]);
    assert.equal(
      line,
      `albumshare: failed precondition: the folder ${join(dir, "central")} is in use by pid ${centralPid} (central on 127.0.0.1:${port})\n`,
    );
  });

  test("a central server on taken ports says so in one line", async () => {
    const clientPort = await refused([
      "central",
      "--dir",
      join(temp.dir, "elsewhere"),
      "--port",
      String(port),
      "--cluster-port",
      "0",
    ]);
    assert.equal(
      clientPort,
      `albumshare: failed precondition: 127.0.0.1:${port} is already in use (is another central server running there?)\n`,
    );
    const clusterPort = await refused([
      "central",
      "--dir",
      join(temp.dir, "elsewhere"),
      "--port",
      "0",
      "--cluster-port",
      String(port + 1),
      "--cluster-token-file",
      join(dir, "cluster-token"),
    ]);
    assert.equal(
      clusterPort,
      `albumshare: failed precondition: the cluster address 127.0.0.1:${port + 1} is already in use (is another central server running there?)\n`,
    );
  });

  test("folders are 0700, database and token files 0600, under umask 000", () => {
    assert.equal(modeOf(dir), 0o700);
    assert.equal(modeOf(join(dir, "central")), 0o700);
    assert.equal(modeOf(join(dir, "cluster-token")), 0o600);
    for (const file of ["central.sqlite3", "central.sqlite3-wal", "central.sqlite3-shm"]) {
      const path = join(dir, "central", file);
      if (existsSync(path)) assert.equal(modeOf(path), 0o600, file);
    }
  });

  test("the token is on no command line and in no log line; nor is a password", async () => {
    const token = readFileSync(join(dir, "cluster-token"), "utf8").trim();
    assert.ok(token.length >= 16);
    const children = childrenOf(system.child.pid!);
    assert.ok(children.length >= 2, "central and data servers run");
    for (const pid of [system.child.pid!, ...children]) {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      assert.ok(!argv.includes(token), `pid ${pid}'s command line holds the token`);
    }
    // up's system speaks TLS: this process verifies it with the CA up made.
    const before = transportSecurity();
    useTransportSecurity(loadTransportSecurity({ tlsCa: join(dir, "tls", "ca.pem") }, "client"));
    after(() => useTransportSecurity(before));
    const client = await CentralClient.connect({ address: `127.0.0.1:${port}` });
    await client.register("alice", PASSWORD);
    await assert.rejects(client.login("alice", `${PASSWORD}-wrong`));
    await client.login("alice", PASSWORD);
    await client.createAlbum("holiday");
    client.close();
    system.child.kill("SIGTERM");
    assert.equal(await system.exit, 0);
    // Debug logging of every process, and still neither secret.
    assert.ok(system.output.text.includes('"level":20'), "debug lines were logged");
    assert.ok(!system.output.text.includes(token), "the token is in the output");
    assert.ok(!system.output.text.includes(PASSWORD), "a password is in the output");
  });
});
