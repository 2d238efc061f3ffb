// Starts the real central server (`albumshare central`) as a child process on
// an ephemeral loopback port, for the tests that drive it through the client
// library.
import { mkdtempSync, rmSync } from "node:fs";
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

  /** `port`: a fixed port (a restart on the address clients know); `args`: more options. */
  static async start(
    dir: string,
    timeoutMs = 30_000,
    options: { port?: number; args?: readonly string[] } = {},
  ): Promise<CentralProcess> {
    const args = ["central", "--host", "127.0.0.1", "--port", String(options.port ?? 0)];
    return new CentralProcess(
      await CliServer.start(
        [...args, "--dir", dir, ...(options.args ?? []), "--log-level", "warn"],
        timeoutMs,
      ),
    );
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
