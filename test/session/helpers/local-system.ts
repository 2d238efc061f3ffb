// A whole local system for end-to-end tests, every part a real process on
// 127.0.0.1 with ephemeral ports: the central server (with its cluster
// coordinator), data servers, and client shells driven through stdin/stdout in
// --json mode (one command result or event per line, see src/cli/shell.ts).
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { albumshareBin, CliServer } from "../../support/cli-server.ts";

export const CLUSTER_TOKEN = "session-test-cluster-token-0123456789";

export type ShellLine = Record<string, unknown>;
export interface CommandOk {
  command: string;
  ok: true;
  text: string;
  data: unknown;
}
export interface CommandFailed {
  command: string;
  ok: false;
  code: string;
  error: string;
}
export type CommandResult = CommandOk | CommandFailed;
export interface ShellEvent extends ShellLine {
  event: string;
}

/** One `albumshare client --json` process. Commands run in order; events arrive any time. */
export class ShellClient {
  readonly name: string;
  readonly child: ChildProcess;
  /** Its working folder (where downloads without a destination land). */
  readonly cwd: string;
  readonly events: ShellEvent[] = [];
  readonly lines: string[] = [];
  stderr = "";
  #pending: { resolve(result: CommandResult): void; reject(error: Error): void }[] = [];
  #eventWaiters: { match(event: ShellEvent): boolean; resolve(event: ShellEvent): void }[] = [];
  readonly exit: Promise<number | null>;

  /**
   * `env`: more environment of the shell; `launcher` runs the client through
   * another command (e.g. `ip netns exec NAME`); `args` are more options.
   */
  constructor(
    name: string,
    central: string,
    cwd: string,
    options: {
      env?: NodeJS.ProcessEnv;
      launcher?: readonly string[];
      args?: readonly string[];
    } = {},
  ) {
    this.name = name;
    this.cwd = cwd;
    const command = [
      ...(options.launcher ?? []),
      process.execPath,
      albumshareBin,
      "client",
      "--central",
      central,
      "--json",
      ...(options.args ?? []),
    ];
    this.child = spawn(command[0]!, command.slice(1), {
      stdio: ["pipe", "pipe", "pipe"],
      cwd,
      env: {
        ...process.env,
        ALBUMSHARE_PEER_HOST: "127.0.0.1",
        ALBUMSHARE_PEER_PORT: "0",
        ...options.env,
      },
    });
    this.child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString("utf8")));
    this.exit = once(this.child, "exit").then(([code]) => {
      for (const pending of this.#pending.splice(0)) {
        pending.reject(new Error(`${name} exited (${String(code)})\n${this.#tail()}`));
      }
      return code as number | null;
    });
    createInterface({ input: this.child.stdout! }).on("line", (line) => this.#onLine(line));
  }

  #onLine(line: string): void {
    this.lines.push(line);
    let parsed: ShellLine;
    try {
      parsed = JSON.parse(line) as ShellLine;
    } catch {
      return;
    }
    if (typeof parsed.event === "string") {
      this.#event(parsed as ShellEvent);
      return;
    }
    if (typeof parsed.command === "string") {
      // In --json our own chat message comes back as its result only; it is
      // still a chat message this editor saw, in its causal place.
      const data = parsed.data as { from?: string; text?: string; time?: number } | null;
      if ((parsed.command === "chat" || parsed.command === "say") && parsed.ok === true && data) {
        this.#event({ event: "chat", from: data.from, text: data.text, time: data.time });
      }
      this.#pending.shift()?.resolve(parsed as never);
    }
  }

  #event(event: ShellEvent): void {
    this.events.push(event);
    const ready = this.#eventWaiters.filter((w) => w.match(event));
    this.#eventWaiters = this.#eventWaiters.filter((w) => !ready.includes(w));
    for (const waiter of ready) waiter.resolve(event);
  }

  #tail(): string {
    return `--- ${this.name} stdout ---\n${this.lines.slice(-30).join("\n")}\n--- stderr ---\n${this.stderr.split("\n").slice(-30).join("\n")}`;
  }

  /** Sends one line; resolves with its result line. */
  run(line: string, timeoutMs = 60_000): Promise<CommandResult> {
    return new Promise<CommandResult>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: no result for '${line}'\n${this.#tail()}`)),
        timeoutMs,
      );
      this.#pending.push({
        resolve: (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.stdin!.write(`${line}\n`);
    });
  }

  /** Runs a line that must succeed; returns its result. */
  async ok(line: string): Promise<CommandOk> {
    const result = await this.run(line);
    if (!result.ok) {
      throw new Error(`${this.name}: '${line}' failed: ${result.code} ${result.error}`);
    }
    return result;
  }

  /** Runs a line that must fail with `code`; returns the error message. */
  async fails(line: string, code: string): Promise<string> {
    const result = await this.run(line);
    if (result.ok) throw new Error(`${this.name}: '${line}' succeeded: ${result.text}`);
    if (result.code !== code) {
      throw new Error(
        `${this.name}: '${line}' failed with ${result.code}, not ${code}: ${result.error}`,
      );
    }
    return result.error;
  }

  /** The first event (already seen or coming) that matches. */
  waitEvent(
    match: (event: ShellEvent) => boolean,
    what: string,
    timeoutMs = 30_000,
  ): Promise<ShellEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<ShellEvent>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: never saw ${what}\n${this.#tail()}`)),
        timeoutMs,
      );
      this.#eventWaiters.push({
        match,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      });
    });
  }

  chats(): { from: string; text: string }[] {
    return this.events
      .filter((e) => e.event === "chat")
      .map((e) => ({ from: e.from as string, text: e.text as string }));
  }

  async kill9(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGKILL");
    await this.exit;
  }

  /** Ends input (the shell leaves its session cleanly) and waits for the exit. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 15_000);
    await this.exit;
    clearTimeout(timer);
  }
}

export interface LocalSystemOptions {
  /** More options of the central server (e.g. a short --resume-grace-ms). */
  centralArgs?: readonly string[];
  /** More options of every data server (e.g. a short --stall-timeout). */
  dataArgs?: readonly string[];
}

function centralArgs(root: string, port: number, clusterPort: number, more: readonly string[]) {
  return [
    "central",
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--cluster-port",
    String(clusterPort),
    "--dir",
    join(root, "central"),
    "--cluster-token",
    CLUSTER_TOKEN,
    ...more,
    "--log-level",
    "warn",
  ];
}

/** Central server + data servers, in a temporary directory. */
export class LocalSystem {
  readonly root: string;
  readonly central: string;
  /** The central server's cluster (data-server) address. */
  readonly cluster: string;
  readonly #servers: CliServer[];
  readonly #clients: ShellClient[] = [];
  readonly #centralArgs: readonly string[];
  #central: CliServer;

  private constructor(
    root: string,
    central: CliServer,
    servers: CliServer[],
    moreCentralArgs: readonly string[],
  ) {
    this.root = root;
    this.central = `127.0.0.1:${central.listening.port}`;
    this.cluster = `127.0.0.1:${central.listening.clusterPort}`;
    this.#central = central;
    this.#servers = servers;
    this.#centralArgs = moreCentralArgs;
  }

  static async start(dataServers = 3, options: LocalSystemOptions = {}): Promise<LocalSystem> {
    const root = mkdtempSync(join(tmpdir(), "albumshare-system-"));
    const more = options.centralArgs ?? [];
    const central = await CliServer.start(centralArgs(root, 0, 0, more));
    const { listening } = central;
    const servers: CliServer[] = [];
    // One at a time: each prints its line once it is in the ring.
    for (let index = 1; index <= dataServers; index++) {
      const server = await CliServer.start([
        "data",
        "--central",
        `127.0.0.1:${listening.clusterPort}`,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--dir",
        join(root, `data-${index}`),
        "--cluster-token",
        CLUSTER_TOKEN,
        "--log-level",
        "warn",
        ...(options.dataArgs ?? []),
      ]);
      servers.push(server);
    }
    return new LocalSystem(root, central, servers, more);
  }

  /** kill -9 of the central server (no shutdown code runs, as in a crash). */
  killCentral(): Promise<void> {
    return this.#central.kill9();
  }

  /** Starts the central server again on the same ports and folder. */
  async restartCentral(): Promise<void> {
    const { port, clusterPort } = this.#central.listening;
    this.#central = await CliServer.start(
      centralArgs(this.root, port, clusterPort ?? 0, this.#centralArgs),
    );
  }

  /**
   * A new client shell, working in its own directory under the system's root;
   * `central`: another address to reach the central server by (a proxy);
   * `env`: more environment of the shell process.
   */
  client(name: string, central = this.central, env: NodeJS.ProcessEnv = {}): ShellClient {
    const cwd = mkdtempSync(join(this.root, `client-${name}-`));
    const client = new ShellClient(name, central, cwd, { env });
    this.#clients.push(client);
    return client;
  }

  async stop(): Promise<void> {
    await Promise.all(this.#clients.map((client) => client.kill9()));
    for (const server of this.#servers.reverse()) await server.stop();
    await this.#central.stop();
    rmSync(this.root, { recursive: true, force: true });
  }
}
