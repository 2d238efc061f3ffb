// Starts the real central server (`albumshare central`) as a child process on
// an ephemeral loopback port and waits for its JSON "listening" line. Keeps the
// server's stderr so a failing test can show what it logged.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const albumshareBin = join(repoRoot, "bin", "albumshare.js");

export function makeTempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export class CentralProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly exit: Promise<number | null>;
  private stderrText: string;
  private exited = false;

  private constructor(child: ChildProcess, port: number, stderr: { text: string }) {
    this.child = child;
    this.port = port;
    this.stderrText = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      this.stderrText += chunk.toString("utf8");
    });
    this.stderrText = stderr.text;
    this.exit = once(child, "exit").then(([code]) => {
      this.exited = true;
      return code as number | null;
    });
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get isAlive(): boolean {
    return !this.exited && this.child.exitCode === null && this.child.signalCode === null;
  }

  get stderr(): string {
    return this.stderrText;
  }

  static async start(dir: string, timeoutMs = 30_000): Promise<CentralProcess> {
    const child = spawn(
      process.execPath,
      [
        albumshareBin,
        "central",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--dir",
        dir,
        "--log-level",
        "warn",
      ],
      { stdio: ["ignore", "pipe", "pipe"], cwd: repoRoot },
    );
    const early = { text: "" };
    const collect = (chunk: Buffer): void => {
      early.text += chunk.toString("utf8");
    };
    child.stderr!.on("data", collect);
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`central server did not start\n${early.text}`));
      }, timeoutMs);
      const lines = createInterface({ input: child.stdout! });
      lines.on("line", (line) => {
        try {
          const parsed = JSON.parse(line) as { listening?: { port?: number } };
          if (typeof parsed.listening?.port === "number") {
            clearTimeout(timer);
            resolve(parsed.listening.port);
          }
        } catch {
          // not the listening line
        }
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(`central server exited (${code ?? signal}) before listening\n${early.text}`),
        );
      });
    });
    child.stderr!.off("data", collect);
    return new CentralProcess(child, port, early);
  }

  /** SIGKILL: no shutdown code runs, as in a crash. */
  async kill9(): Promise<void> {
    if (!this.isAlive) return;
    this.child.kill("SIGKILL");
    await this.exit;
  }

  async stop(): Promise<void> {
    if (!this.isAlive) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await this.exit;
    clearTimeout(timer);
  }
}
