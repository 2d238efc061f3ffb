// `albumshare up` as a person starts it, on a terminal: a short summary
// instead of log lines, the logs in a file under the data folder (the
// coordinator's start logged once), "1 data server", and a connect command
// that works from any folder without asking the npm registry; `status` finds
// the cluster token that `up` keeps. Real processes on 127.0.0.1.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { makeTempDir } from "../central/helpers/central-process.ts";
import { albumshareBin, repoRoot } from "../support/cli-server.ts";
import { CTRL_C, PtyShell } from "./helpers/pty-shell.ts";

async function isFree(port: number): Promise<boolean> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/** A port P with P, P+1 and P+2 free (central, cluster, one data server). */
async function freePortRun(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await isFree(port)) && (await isFree(port + 1)) && (await isFree(port + 2))) return port;
  }
  throw new Error("no three free ports in a row");
}

describe("albumshare up on a terminal", () => {
  const temp = makeTempDir("albumshare-up-");
  let up: PtyShell | undefined;
  after(async () => {
    await up?.kill();
    temp.remove();
  });

  test("4, 8, 9: a summary, logs in a file, a connect command for any folder, status", async () => {
    const dir = join(temp.dir, "system");
    const port = await freePortRun();
    up = PtyShell.start(["up", "--dir", dir, "--port", String(port), "--data-servers", "1"]);
    await up.waitFor(/Stop with Ctrl-C\./, "the summary", 0, 60_000);
    const shown = up.text;
    assert.doesNotMatch(shown, /"level"/, "no JSON log lines on the terminal");
    assert.match(shown, /, 1 data server\n/);
    assert.doesNotMatch(shown, /npx/);
    const logFile = join(dir, "logs", "albumshare.log");
    assert.ok(shown.includes(logFile), shown);
    const logs = readFileSync(logFile, "utf8");
    assert.equal(logs.match(/cluster coordinator listening/g)?.length, 1, logs);

    // The printed command works from a folder outside the repository.
    const command = /a shell: (node \S+ client --central \S+ --tls-ca \S+)/.exec(shown)![1]!;
    const [, entry, , , central, , ca] = command.split(" ");
    assert.equal(entry, albumshareBin);
    const elsewhere = spawnSync(
      process.execPath,
      [entry!, "client", "--central", central!, "--tls-ca", ca!],
      {
        cwd: temp.dir,
        input: "register ursula password-of-ursula\n",
        encoding: "utf8",
      },
    );
    assert.equal(elsewhere.status, 0, elsewhere.stderr);
    assert.equal(elsewhere.stdout.trim(), "registered 'ursula'");

    // status reads the token up keeps (--dir), without --cluster-token.
    const status = execFileSync(
      process.execPath,
      [
        albumshareBin,
        "status",
        "--central",
        `127.0.0.1:${port + 1}`,
        "--dir",
        dir,
        "--tls-ca",
        join(dir, "tls", "ca.pem"),
        "--json",
      ],
      { cwd: repoRoot, encoding: "utf8", env: { ...process.env, ALBUMSHARE_CLUSTER_TOKEN: "" } },
    );
    assert.equal((JSON.parse(status) as { servers: unknown[] }).servers.length, 1);

    up.type(CTRL_C);
    assert.equal(await up.exited(), 0);
  });

  test("9, 4: --version; the README never sends anyone to the registry for albumshare", () => {
    const version = execFileSync(process.execPath, [albumshareBin, "--version"], {
      cwd: temp.dir,
      encoding: "utf8",
    });
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
      version: string;
    };
    assert.equal(version.trim(), pkg.version);
    assert.doesNotMatch(readFileSync(join(repoRoot, "README.md"), "utf8"), /npx albumshare/);
  });
});
