// `albumshare up`: a whole local system from embedded defaults — the central
// server, N data servers and the web app as child processes, all data under one folder, a
// cluster token generated once and kept there. Stops them all on Ctrl-C or
// SIGTERM, and stops everything if one of them dies. It locks the folder and
// checks the ports first, so a second system on the same folder or ports is
// refused with one line. The token reaches the children as an owner-only
// file, never on a command line (which every local user can read with ps).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { AlbumError } from "../common/album-error.ts";
import { acquireFolderLock, readOwner, type FolderLock } from "../common/folder-lock.ts";
import type { LogLevel } from "../common/logger.ts";
import { formatUpSummary, openUpLog } from "./up-output.ts";
import { ensurePrivateDir, makePrivate, writePrivateFile } from "../common/private-files.ts";
import { busyPort } from "./port-probe.ts";
import {
  ensureCertificate,
  localHostNames,
  tlsArguments,
} from "../common/tls/local-certificates.ts";

const executable = fileURLToPath(new URL("../../bin/albumshare.js", import.meta.url));

export interface LocalSystemOptions {
  dir: string;
  port: number;
  dataServers: number;
  logLevel: LogLevel;
}

/**
 * The servers' environment. glibc gives each thread that allocates (Node's
 * file-system and hashing workers) a malloc arena of its own; over a long
 * transfer their fragmentation grows a data server's RSS with the file size
 * (measured: 134 MiB peak for a 4 GiB upload + download, 118 MiB with two
 * arenas, same throughput). An explicit setting of the caller wins.
 */
function serverEnvironment(): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {
    ...process.env,
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? "2",
  };
  // The children get the token file on their command line; a token of the
  // caller's environment would be a second, conflicting source.
  delete environment.ALBUMSHARE_CLUSTER_TOKEN;
  delete environment.ALBUMSHARE_CLUSTER_TOKEN_FILE;
  return environment;
}

/** The token file, created once; an existing one made owner-only. */
function clusterTokenFile(dir: string): string {
  const file = join(dir, "cluster-token");
  if (existsSync(file)) makePrivate(file);
  else writePrivateFile(file, `${randomBytes(24).toString("hex")}\n`);
  return file;
}

const UP_ROLE = "albumshare up";

/** Locks the system's folder, or says in one line which system runs there. */
function lockSystemFolder(options: LocalSystemOptions, dir: string): FolderLock {
  const central = `127.0.0.1:${options.port}`;
  try {
    return acquireFolderLock(dir, {
      role: UP_ROLE,
      address: central,
      detail: `data in ${options.dir}`,
    });
  } catch (error) {
    const owner = readOwner(dir);
    if (owner?.role === UP_ROLE) {
      throw new Error(
        `already running: central on ${owner.address ?? "?"}, ${owner.detail ?? `data in ${options.dir}`} (pid ${owner.pid})`,
      );
    }
    throw new Error(AlbumError.from(error).message);
  }
}

function start(
  name: string,
  args: string[],
  children: ChildProcess[],
  logFd: number | undefined,
): Promise<{ port: number }> {
  const child = spawn(process.execPath, [executable, ...args], {
    stdio: ["ignore", "pipe", logFd ?? "inherit"],
    env: serverEnvironment(),
  });
  children.push(child);
  return new Promise((resolveStart, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      try {
        const parsed = JSON.parse(line) as { listening?: { port: number } };
        if (parsed.listening) resolveStart(parsed.listening);
      } catch {
        process.stdout.write(`${name}: ${line}\n`);
      }
    });
    child.once("exit", (code) =>
      reject(new Error(`${name} exited with status ${code ?? "signal"} before it was ready`)),
    );
  });
}

export async function runLocalSystem(options: LocalSystemOptions): Promise<void> {
  const dir = resolve(options.dir);
  const clusterPort = options.port + 1;
  const ports = [options.port, clusterPort];
  for (let i = 1; i <= options.dataServers; i++) ports.push(clusterPort + i);
  ports.push(options.port + 80); // the web app
  let tokenFile: string;
  let tlsFiles: ReturnType<typeof ensureCertificate>;
  let lock: FolderLock;
  try {
    ensurePrivateDir(dir);
    // Held until this process ends (the kernel drops it even on kill -9).
    lock = lockSystemFolder(options, dir);
    const busy = await busyPort("127.0.0.1", ports);
    if (busy !== undefined) {
      throw new Error(
        `already running: 127.0.0.1:${busy} is in use (another system?); stop it or choose another --port`,
      );
    }
    tokenFile = clusterTokenFile(dir);
    // TLS by default: a CA and one certificate for this machine, made on first start.
    tlsFiles = ensureCertificate(join(dir, "tls"), join(dir, "tls"), "server", localHostNames());
  } catch (error) {
    process.stderr.write(
      `albumshare up: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  }
  // On a terminal the servers' log lines go to a file; the person sees a summary.
  const log = process.stdout.isTTY ? openUpLog(dir) : undefined;
  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = (status: number): void => {
    if (stopping) return;
    stopping = true;
    for (const child of children) child.kill("SIGTERM");
    const deadline = setTimeout(() => {
      for (const child of children) child.kill("SIGKILL");
      process.exit(status);
    }, 5000);
    void Promise.all(
      children.map((c) =>
        c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.once("exit", r)),
      ),
    ).then(() => {
      clearTimeout(deadline);
      lock.release();
      process.exit(status);
    });
  };
  process.on("SIGINT", () => stopAll(0));
  process.on("SIGTERM", () => stopAll(0));
  try {
    const central = await start(
      "central",
      [
        "central",
        "--port",
        String(options.port),
        "--cluster-port",
        String(clusterPort),
        "--dir",
        join(dir, "central"),
        "--cluster-token-file",
        tokenFile,
        "--log-level",
        options.logLevel,
        ...tlsArguments(tlsFiles),
      ],
      children,
      log?.fd,
    );
    for (let i = 1; i <= options.dataServers; i++) {
      await start(
        `data-${i}`,
        [
          "data",
          "--central",
          `127.0.0.1:${clusterPort}`,
          "--port",
          String(clusterPort + i),
          "--dir",
          join(dir, `data-${i}`),
          "--cluster-token-file",
          tokenFile,
          "--log-level",
          options.logLevel,
          ...tlsArguments(tlsFiles),
        ],
        children,
        log?.fd,
      );
    }
    // The web app, on the central port + 80 (7480 by default).
    const web = await start(
      "web",
      [
        "web",
        "--central",
        `127.0.0.1:${central.port}`,
        "--port",
        String(options.port + 80),
        "--dir",
        join(dir, "web"),
        "--json",
        "--log-level",
        options.logLevel,
        "--tls-ca",
        tlsFiles.ca,
      ],
      children,
      log?.fd,
    );
    process.stdout.write(
      formatUpSummary({
        centralPort: central.port,
        clusterPort,
        dataServers: options.dataServers,
        dir,
        logFile: log?.path,
        webPort: web.port,
        tlsCa: tlsFiles.ca,
      }),
    );
    for (const child of children) {
      child.once("exit", (code) => {
        if (stopping) return;
        process.stderr.write(
          `a server process exited (status ${code ?? "signal"}); stopping the local system\n`,
        );
        stopAll(1);
      });
    }
  } catch (error) {
    process.stderr.write(
      `albumshare up: ${error instanceof Error ? error.message : String(error)}` +
        `${log ? ` (details in ${log.path})` : ""}\n`,
    );
    stopAll(1);
  }
}
