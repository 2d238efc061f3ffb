// A TCP proxy of the tests' own on 127.0.0.1, between one client and a
// server: it forwards bytes both ways until the test cuts the link (every
// open connection destroyed, new ones refused) and restores it. It lets a
// test cut exactly one client's connection to the central server while its
// peer links stay up. Loopback only; it never buffers beyond the sockets'.
import { createServer, connect, type Server, type Socket } from "node:net";

export class TcpProxy {
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  readonly #open = new Set<Socket>();
  #cut = false;
  /** Connections accepted (refused ones included). */
  accepted = 0;

  private constructor(server: Server, target: { host: string; port: number }) {
    this.#server = server;
    this.#target = target;
  }

  static async start(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, { host: targetHost, port: targetPort });
    server.on("connection", (socket) => proxy.accept(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === "object" && address ? address.port : 0;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Destroys every forwarded connection and refuses new ones until restore(). */
  cut(): void {
    this.#cut = true;
    for (const socket of this.#open) socket.destroy();
    this.#open.clear();
  }

  restore(): void {
    this.#cut = false;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.accepted++;
    if (this.#cut) {
      client.destroy();
      return;
    }
    const upstream = connect(this.#target);
    for (const socket of [client, upstream]) {
      this.#open.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => {
        this.#open.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
