// Starts test fixtures as real processes (`node --import tsx <fixture>`),
// reads their JSON event lines, sends them commands, and stops them. Keeps
// each process's stderr so a failing test can show what the servers logged.

import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const fixturesDir = fileURLToPath(new URL("../fixtures/", import.meta.url));

export type FixtureEvent = Record<string, unknown> & { event: string };

export interface LaunchOptions {
  /** Runs the fixture with this soft and hard limit on open files (`ulimit -n`). */
  openFileLimit?: number;
}

export class FixtureProcess {
  readonly name: string;
  private readonly child: ChildProcess;
  private readonly events: FixtureEvent[] = [];
  private waiters: { match: (e: FixtureEvent) => boolean; resolve: (e: FixtureEvent) => void }[] =
    [];
  private stderr = "";
  private hasExited = false;
  readonly exit: Promise<number | null>;

  constructor(name: string, fixture: string, options: object, launch: LaunchOptions = {}) {
    this.name = name;
    const args = ["--import", "tsx", `${fixturesDir}${fixture}`, JSON.stringify(options)];
    const env = { ...process.env, ALBUMSHARE_TEST_LOG: process.env.ALBUMSHARE_TEST_LOG ?? "info" };
    const stdio: ["pipe", "pipe", "pipe"] = ["pipe", "pipe", "pipe"];
    this.child =
      launch.openFileLimit === undefined
        ? spawn(process.execPath, args, { stdio, env })
        : // The shell lowers the limit for itself, then becomes the node process.
          spawn(
            "bash",
            [
              "-c",
              `ulimit -n ${launch.openFileLimit} && exec "$0" "$@"`,
              process.execPath,
              ...args,
            ],
            { stdio, env },
          );
    this.exit = once(this.child, "exit").then(([code]) => {
      this.hasExited = true;
      return code as number | null;
    });
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      let event: FixtureEvent;
      try {
        event = JSON.parse(line) as FixtureEvent;
      } catch {
        return;
      }
      this.events.push(event);
      const ready = this.waiters.filter((w) => w.match(event));
      this.waiters = this.waiters.filter((w) => !w.match(event));
      for (const w of ready) w.resolve(event);
    });
    this.child.stderr!.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString("utf8");
    });
  }

  /** Whether the process has ended. */
  get exited(): boolean {
    return this.hasExited;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Waits for the next event named `name` (or an earlier one not yet consumed, if `fromStart`). */
  waitFor(name: string, timeoutMs = 30_000, fromStart = true): Promise<FixtureEvent> {
    if (fromStart) {
      const seen = this.events.find((e) => e.event === name);
      if (seen) {
        this.events.splice(this.events.indexOf(seen), 1);
        return Promise.resolve(seen);
      }
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.name}: no '${name}' event within ${timeoutMs} ms\n--- stderr ---\n${this.logTail()}`,
            ),
          ),
        timeoutMs,
      );
      const waiter = {
        match: (e: FixtureEvent) => e.event === name,
        resolve: (e: FixtureEvent) => {
          clearTimeout(timer);
          this.events.splice(this.events.indexOf(e), 1);
          resolve(e);
        },
      };
      this.waiters.push(waiter);
      void this.exit.then((code) => {
        if (this.waiters.includes(waiter)) {
          clearTimeout(timer);
          reject(
            new Error(
              `${this.name} exited (${code}) before '${name}'\n--- stderr ---\n${this.logTail()}`,
            ),
          );
        }
      });
    });
  }

  send(command: object): void {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  /** The process's log (stderr). */
  log(): string {
    return this.stderr;
  }

  logTail(lines = 40): string {
    return this.stderr.split("\n").slice(-lines).join("\n");
  }

  /** SIGTERM, then SIGKILL if it does not exit within `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.hasExited) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exit;
    clearTimeout(timer);
  }

  /** Freezes the process (SIGSTOP): its sockets stay open but nothing answers. */
  pause(): void {
    // Never signal a pid that may already belong to another process.
    if (!this.hasExited) this.child.kill("SIGSTOP");
  }

  resume(): void {
    if (!this.hasExited) this.child.kill("SIGCONT");
  }

  async kill9(): Promise<void> {
    if (this.hasExited) return;
    this.child.kill("SIGKILL");
    await this.exit;
  }
}

export const TEST_CLUSTER_TOKEN = "test-cluster-token-0123456789abcdef";

export async function startCoordinator(
  dir: string,
  port = 0,
): Promise<{ process: FixtureProcess; address: string }> {
  const coordinator = new FixtureProcess("coordinator", "coordinator-main.ts", {
    dir,
    clusterToken: TEST_CLUSTER_TOKEN,
    port,
  });
  const listening = await coordinator.waitFor("listening");
  return { process: coordinator, address: `127.0.0.1:${listening.port as number}` };
}

export interface StartedDataServer {
  process: FixtureProcess;
  serverId: string;
  address: string;
  movedKeys: number;
}

/** Limits a test may set on a data server (see DataServerOptions). */
export interface DataServerLimits {
  reserveBytes?: number;
  maxTransfers?: number;
  stallTimeoutMs?: number;
}

export function spawnDataServer(
  name: string,
  central: string,
  dir: string,
  port = 0,
  limits: DataServerLimits = {},
  launch: LaunchOptions = {},
): FixtureProcess {
  return new FixtureProcess(
    name,
    "data-server-main.ts",
    { central, dir, clusterToken: TEST_CLUSTER_TOKEN, port, ...limits },
    launch,
  );
}

/** Waits until a spawned data server is a member of the cluster. */
export async function dataServerReady(server: FixtureProcess): Promise<StartedDataServer> {
  const ready = await server.waitFor("ready", 60_000);
  return {
    process: server,
    serverId: ready.serverId as string,
    address: ready.address as string,
    movedKeys: ready.movedKeys as number,
  };
}

export function startDataServer(
  name: string,
  central: string,
  dir: string,
  port = 0,
): Promise<StartedDataServer> {
  return dataServerReady(spawnDataServer(name, central, dir, port));
}
