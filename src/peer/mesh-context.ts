// The ZeroMQ context the peer meshes of a process share, with its one ZAP
// handler. A context runs its own I/O thread (where CURVE encrypts and
// decrypts) and can hold only one ZAP endpoint; a context per mesh meant a
// thread and a handler per editing session, which a process hosting several
// sessions (the web server, one per browser session; the benchmarks and
// tests, several editors) pays for on every message. So meshes share one:
// each mesh's endpoint gets a ZAP domain of its own, and the handler routes
// each handshake to that mesh's admission table (zap-authenticator.ts).
// The handler runs while at least one mesh is registered (a waiting ZeroMQ
// socket keeps the process alive), so a process with no session has none.
// Must never route one mesh's handshake to another mesh's table, and never
// leave a handler running with no mesh registered.
import { Context } from "zeromq";
import { silentLogger, type Logger } from "../common/logger.ts";
import { ZapAuthenticator, type ZapDomain } from "./zap-authenticator.ts";

export interface MeshContextOptions {
  /** ZeroMQ I/O threads (default 1: the machine's other cores run the editors' JS). */
  ioThreads?: number;
  logger?: Logger;
}

let processWide: MeshContext | undefined;

export class MeshContext {
  readonly context: Context;
  readonly #zap: ZapAuthenticator;
  #domains = 0;
  #nextDomain = 0;
  /** Starts and stops of the handler, one after another. */
  #transition: Promise<void> = Promise.resolve();

  constructor(options: MeshContextOptions = {}) {
    this.context = new Context({ ioThreads: options.ioThreads ?? 1 });
    this.#zap = new ZapAuthenticator(this.context, options.logger ?? silentLogger());
  }

  /** The context every mesh of this process uses unless given another (created on first use). */
  static processWide(): MeshContext {
    processWide ??= new MeshContext();
    return processWide;
  }

  /** Whether the ZAP handler is running (some mesh is registered). */
  get authenticating(): boolean {
    return this.#zap.running;
  }

  /** A ZAP domain no other endpoint of this context has, for a mesh of the session `token`. */
  newDomain(token: Uint8Array): string {
    return `${Buffer.from(token).toString("hex")}.${++this.#nextDomain}`;
  }

  /** Handshakes for `domain` are judged by `table` from now on; starts the handler if need be. */
  async register(domain: string, table: ZapDomain): Promise<void> {
    this.#zap.register(domain, table);
    this.#domains++;
    try {
      await this.#step(() => this.#zap.start());
    } catch (error) {
      this.#forget(domain);
      throw error;
    }
  }

  /** Handshakes for `domain` are refused from now on; the last one out stops the handler. */
  async unregister(domain: string): Promise<void> {
    this.#forget(domain);
    await this.#step(async () => {
      if (this.#domains === 0) await this.#zap.stop();
    });
  }

  #forget(domain: string): void {
    if (this.#zap.unregister(domain)) this.#domains--;
  }

  #step(action: () => Promise<void>): Promise<void> {
    const step = this.#transition.then(action);
    this.#transition = step.catch(() => undefined);
    return step;
  }
}
