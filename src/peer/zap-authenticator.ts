// The ZAP handler (ZeroMQ RFC 27) of a ZeroMQ context shared by every peer
// mesh of the process: ZeroMQ asks it, during the CURVE handshake of every
// incoming connection to any mesh's endpoint, whether the client's public
// key may connect. A context has exactly one ZAP endpoint, so the handler
// routes each request by its ZAP domain — every mesh's endpoint has a domain
// of its own (its session's token and a number unique in the process) — to
// that mesh's admission table, and admits exactly the keys the central
// server vouched for to that mesh. A request for a domain no mesh holds
// (a stopped mesh, or none) is refused.
// Must never admit on an error or for another domain's table, and never let
// a malformed request stop it.
import { Router, type Context } from "zeromq";
import { silentLogger, type Logger } from "../common/logger.ts";
import { PUBLIC_KEY_BYTES } from "./peer-keys.ts";

const ZAP_ENDPOINT = "inproc://zeromq.zap.01";
const ZAP_VERSION = "1.0";
const REBIND_ATTEMPTS = 50;
const REBIND_PAUSE_MS = 10;

export interface ZapStats {
  admitted: number;
  refused: number;
}

/** One mesh's admission table, as the handler sees it. */
export interface ZapDomain {
  isAdmitted(publicKey: Uint8Array): boolean;
  readonly stats: ZapStats;
  readonly logger: Logger;
}

export class ZapAuthenticator {
  readonly #context: Context;
  readonly #logger: Logger;
  readonly #domains = new Map<string, ZapDomain>();
  #socket: Router | undefined;
  #loop: Promise<void> | undefined;

  constructor(context: Context, logger: Logger = silentLogger()) {
    this.#context = context;
    this.#logger = logger.child({ component: "zap" });
  }

  get running(): boolean {
    return this.#socket !== undefined;
  }

  /** Routes requests for `domain` to `table` from now on (a domain is held by one mesh). */
  register(domain: string, table: ZapDomain): void {
    if (this.#domains.has(domain)) throw new Error(`ZAP domain ${domain} is already registered`);
    this.#domains.set(domain, table);
  }

  /** Requests for `domain` are refused from now on. False when it was not registered. */
  unregister(domain: string): boolean {
    return this.#domains.delete(domain);
  }

  async start(): Promise<void> {
    if (this.#socket) return;
    for (let attempt = 1; ; attempt++) {
      const socket = new Router({ context: this.#context, linger: 0 });
      try {
        await socket.bind(ZAP_ENDPOINT);
        this.#socket = socket;
        this.#loop = this.#serve(socket);
        return;
      } catch (error) {
        socket.close();
        // The endpoint of a handler closed a moment ago may still be held.
        const busy = (error as { code?: string }).code === "EADDRINUSE";
        if (!busy || attempt >= REBIND_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, REBIND_PAUSE_MS));
      }
    }
  }

  async stop(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.close();
    await this.#loop;
  }

  async #serve(socket: Router): Promise<void> {
    while (!socket.closed) {
      let frames: Buffer[];
      try {
        frames = await socket.receive();
      } catch {
        return; // closed
      }
      // [peer, "", version, request id, domain, address, identity, mechanism, credentials...]
      const [peer, empty, version, requestId] = frames;
      if (peer === undefined || empty === undefined || requestId === undefined) continue;
      const table = this.#domains.get(frames[4]?.toString("latin1") ?? "");
      const verdict = this.#judge(frames, table);
      if (table && verdict === "ok") table.stats.admitted++;
      else {
        if (table) table.stats.refused++;
        (table?.logger ?? this.#logger).warn(
          { address: frames[5]?.toString("latin1"), reason: verdict },
          "peer connection refused",
        );
      }
      try {
        await socket.send([
          peer,
          empty,
          version ?? ZAP_VERSION,
          requestId,
          verdict === "ok" ? "200" : "400",
          verdict === "ok" ? "OK" : verdict,
          "",
          "",
        ]);
      } catch {
        return;
      }
    }
  }

  #judge(frames: Buffer[], table: ZapDomain | undefined): "ok" | string {
    const [, , version, , , , , mechanism, key] = frames;
    if (version?.toString("latin1") !== ZAP_VERSION) return "unsupported ZAP version";
    if (table === undefined) return "no such session";
    if (mechanism?.toString("latin1") !== "CURVE") return "not CURVE";
    if (key === undefined || key.byteLength !== PUBLIC_KEY_BYTES) return "no key";
    try {
      return table.isAdmitted(new Uint8Array(key)) ? "ok" : "key not vouched for";
    } catch {
      return "admission check failed";
    }
  }
}
