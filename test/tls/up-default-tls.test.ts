// `albumshare up` is TLS by default: on first start it makes a CA and a
// certificate under its folder (keys 0600), starts every process with them,
// and prints a client command that names the CA. A client following it works;
// a plaintext client is refused.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { makeTempDir } from "../central/helpers/central-process.ts";
import { albumshareBin, repoRoot } from "../support/cli-server.ts";
import { runClientScript } from "../support/client-script.ts";

/** A base port with the next few free too (up uses port, port+1, port+2). */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const servers = [];
    try {
      for (let offset = 0; offset < 3; offset++) {
        const server = createServer();
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(base + offset, "127.0.0.1", resolve);
        });
        servers.push(server);
      }
      return base;
    } catch {
      // taken: try another base
    } finally {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  }
  throw new Error("no free port range");
}

const temp = makeTempDir("albumshare-up-tls-");
after(() => temp.remove());

test("up makes a CA and certificates and runs every link over TLS", async () => {
  const port = await freeBasePort();
  const dir = join(temp.dir, "system");
  const up = spawn(
    process.execPath,
    [albumshareBin, "up", "--dir", dir, "--port", String(port), "--data-servers", "1"],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  up.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  try {
    const command = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`up never became ready\n${stderr}`)), 90_000);
      createInterface({ input: up.stdout }).on("line", (line) => {
        if (/^\s*a shell: /.test(line)) {
          clearTimeout(timer);
          resolve(line);
        }
      });
      up.once("exit", (code) => reject(new Error(`up exited (${code})\n${stderr}`)));
    });
    const ca = /--tls-ca (\S+)/.exec(command)?.[1];
    assert.equal(ca, join(dir, "tls", "ca.pem"), command);
    for (const key of ["ca-key.pem", "server-key.pem"]) {
      assert.equal(statSync(join(dir, "tls", key)).mode & 0o777, 0o600, key);
    }
    const central = `127.0.0.1:${port}`;
    const secure = await runClientScript(
      ["--central", central, "--tls-ca", ca!],
      [
        "register erin correct-horse-1",
        "login erin correct-horse-1",
        "createAlbum up-album",
        "getAlbum up-album",
        `addFile ${albumshareBin} bin.js`,
      ],
    );
    for (const result of secure.results) assert.equal(result.ok, true, JSON.stringify(result));
    const plain = await runClientScript(
      ["--central", central, "--insecure"],
      ["register frank correct-horse-1"],
    );
    assert.equal(plain.results[0]?.ok, false);
  } finally {
    up.kill("SIGTERM");
    if (up.exitCode === null) await once(up, "exit");
  }
});
