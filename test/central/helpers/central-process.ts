// Starts the real central server (`albumshare central`) as a child process on
// an ephemeral loopback port, for the tests that drive it through the client
// library.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliServer } from "../../support/cli-server.ts";

export { albumshareBin, repoRoot } from "../../support/cli-server.ts";

export function makeTempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export class CentralProcess {
  readonly #server: CliServer;

  private constructor(server: CliServer) {
    this.#server = server;
  }

  /**
   * `port`: a fixed port (a restart on the address clients know); `args` (or
   * an array alone): more options (limits, --log-level info to read its log lines).
   */
  static async start(
    dir: string,
    timeoutMs = 30_000,
    options: { port?: number; args?: readonly string[] } | readonly string[] = {},
  ): Promise<CentralProcess> {
    const { port = 0, args: more = [] } = Array.isArray(options)
      ? { args: options as readonly string[] }
      : (options as { port?: number; args?: readonly string[] });
    const args = ["central", "--host", "127.0.0.1", "--port", String(port), "--dir", dir];
    return new CentralProcess(
      await CliServer.start([...args, "--log-level", "warn", ...more], timeoutMs),
    );
  }

  /** Resident memory of the server process right now (VmRSS), in MiB. */
  rssMiB(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, "utf8");
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    if (kib === undefined) throw new Error("no VmRSS line in /proc/<pid>/status");
    return Number(kib) / 1024;
  }

  get port(): number {
    return this.#server.listening.port;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get child(): CliServer["child"] {
    return this.#server.child;
  }

  get exit(): Promise<number | null> {
    return this.#server.exit;
  }

  get isAlive(): boolean {
    return this.#server.isAlive;
  }

  get stderr(): string {
    return this.#server.stderr;
  }

  /** SIGKILL: no shutdown code runs, as in a crash. */
  kill9(): Promise<void> {
    return this.#server.kill9();
  }

  stop(): Promise<void> {
    return this.#server.stop();
  }
}
