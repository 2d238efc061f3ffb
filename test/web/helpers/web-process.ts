// Starts `albumshare web --json` as a real process against a central server,
// and speaks to it as a browser would (Host and Origin of the server itself,
// the session cookie), or as a hostile page would (other Host or Origin).
import { join } from "node:path";
import { request } from "node:http";
import type { Readable } from "node:stream";
import { CliServer } from "../../support/cli-server.ts";

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export class WebProcess {
  readonly server: CliServer;

  private constructor(server: CliServer) {
    this.server = server;
  }

  static async start(central: string, root: string, extra: string[] = []): Promise<WebProcess> {
    const server = await CliServer.start([
      "web",
      "--central",
      central,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--dir",
      join(root, "web"),
      "--json",
      "--log-level",
      "warn",
      ...extra,
    ]);
    return new WebProcess(server);
  }

  get port(): number {
    return this.server.listening.port;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** One request; headers default to those of the server's own page. */
  send(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string | Buffer | Readable } = {},
  ): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const outgoing = request(
        {
          host: "127.0.0.1",
          port: this.port,
          method,
          path,
          headers: { Host: `127.0.0.1:${this.port}`, Origin: this.origin, ...options.headers },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              body: Buffer.concat(chunks).toString("utf8"),
            }),
          );
          response.on("error", reject);
        },
      );
      outgoing.on("error", reject);
      const body = options.body;
      if (body === undefined) outgoing.end();
      else if (typeof body === "string" || Buffer.isBuffer(body)) outgoing.end(body);
      else body.pipe(outgoing);
    });
  }

  async json(
    method: string,
    path: string,
    value: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    return this.send(method, path, {
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify(value),
    });
  }

  /** Registers and logs in; returns the Cookie header to send. */
  async login(name: string): Promise<string> {
    await this.json("POST", "/api/register", { name, password: `${name}-password` });
    const reply = await this.json("POST", "/api/login", { name, password: `${name}-password` });
    const cookie = [reply.headers["set-cookie"] ?? []].flat()[0];
    if (reply.status !== 200 || !cookie) throw new Error(`login failed: ${reply.body}`);
    return cookie.split(";")[0]!;
  }

  /** Peak resident memory of the process (VmHWM), bytes. */
  async peakRss(): Promise<number> {
    const { readFile } = await import("node:fs/promises");
    const status = await readFile(`/proc/${this.server.child.pid}/status`, "utf8");
    const kib = /VmHWM:\s+(\d+) kB/.exec(status);
    return Number(kib?.[1] ?? 0) * 1024;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}
