// Starts a long-running `albumshare` subcommand (central, data) as a real
// process and waits for the `{"listening":...}` line it prints once it
// serves, keeping its stderr so a failing test can show what it logged.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const albumshareBin = join(repoRoot, "bin", "albumshare.js");

/** What a server prints when it is ready: its bound ports (and a data server's id). */
export interface Listening {
  port: number;
  clusterPort?: number;
  serverId?: string;
}

export class CliServer {
  readonly child: ChildProcess;
  readonly listening: Listening;
  readonly exit: Promise<number | null>;
  readonly #stderr: { text: string };

  private constructor(child: ChildProcess, listening: Listening, stderr: { text: string }) {
    this.child = child;
    this.listening = listening;
    this.#stderr = stderr;
    this.exit =
      child.exitCode !== null || child.signalCode !== null
        ? Promise.resolve(child.exitCode)
        : once(child, "exit").then(([code]) => code as number | null);
  }

  /**
   * `albumshare <args>`; rejects (with its stderr) if it exits or stays silent.
   * `launcher` runs it through another command (e.g. `ip netns exec NAME`).
   */
  static async start(
    args: readonly string[],
    timeoutMs = 60_000,
    launcher: readonly string[] = [],
  ): Promise<CliServer> {
    const command = [...launcher, process.execPath, albumshareBin, ...args];
    const child = spawn(command[0]!, command.slice(1), {
      stdio: ["ignore", "pipe", "pipe"],
      cwd: repoRoot,
    });
    const stderr = { text: "" };
    child.stderr!.on("data", (chunk: Buffer) => (stderr.text += chunk.toString("utf8")));
    const listening = await new Promise<Listening>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`${args[0]}: no listening line within ${timeoutMs} ms\n${stderr.text}`));
      }, timeoutMs);
      createInterface({ input: child.stdout! }).on("line", (line) => {
        try {
          const parsed = JSON.parse(line) as { listening?: Listening };
          if (parsed.listening) {
            clearTimeout(timer);
            resolve(parsed.listening);
          }
        } catch {
          // not the listening line
        }
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${args[0]} exited (${code ?? signal}) before listening\n${stderr.text}`));
      });
    });
    return new CliServer(child, listening, stderr);
  }

  get stderr(): string {
    return this.#stderr.text;
  }

  get isAlive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL: no shutdown code runs, as in a crash. */
  async kill9(): Promise<void> {
    if (!this.isAlive) return;
    this.child.kill("SIGKILL");
    await this.exit;
  }

  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  async stop(): Promise<void> {
    if (!this.isAlive) return;
    this.child.kill("SIGTERM");
    const force = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await this.exit;
    clearTimeout(force);
  }
}
