// The ZAP handler (ZeroMQ RFC 27) of one editor's peer endpoint: ZeroMQ asks
// it, during the CURVE handshake of every incoming connection, whether the
// client's public key may connect. It admits exactly the keys the central
// server vouched for in this session (the `isAdmitted` callback) and refuses
// everything else before a single message of the connection is read.
// It lives in the mesh's own ZeroMQ context (one ZAP endpoint per context),
// so several editors in one process never share admission decisions.
// Must never admit on an error, and never let a malformed request stop it.
import { Router, type Context } from "zeromq";
import { silentLogger, type Logger } from "../common/logger.ts";
import { PUBLIC_KEY_BYTES } from "./peer-keys.ts";

const ZAP_ENDPOINT = "inproc://zeromq.zap.01";
const ZAP_VERSION = "1.0";

export interface ZapStats {
  admitted: number;
  refused: number;
}

export interface ZapAuthenticatorOptions {
  context: Context;
  /** Only requests for this domain (the session's) are admitted. */
  domain: string;
  isAdmitted: (publicKey: Uint8Array) => boolean;
  logger?: Logger;
}

export class ZapAuthenticator {
  readonly stats: ZapStats = { admitted: 0, refused: 0 };
  readonly #options: ZapAuthenticatorOptions;
  readonly #logger: Logger;
  #socket: Router | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: ZapAuthenticatorOptions) {
    this.#options = options;
    this.#logger = (options.logger ?? silentLogger()).child({ component: "zap" });
  }

  async start(): Promise<void> {
    const socket = new Router({ context: this.#options.context, linger: 0 });
    await socket.bind(ZAP_ENDPOINT);
    this.#socket = socket;
    this.#loop = this.#serve(socket);
  }

  async stop(): Promise<void> {
    this.#socket?.close();
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
      const verdict = this.#judge(frames);
      if (verdict === "ok") this.stats.admitted++;
      else {
        this.stats.refused++;
        this.#logger.warn(
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

  #judge(frames: Buffer[]): "ok" | string {
    const [, , version, , domain, , , mechanism, key] = frames;
    if (version?.toString("latin1") !== ZAP_VERSION) return "unsupported ZAP version";
    if (domain?.toString("latin1") !== this.#options.domain) return "another session";
    if (mechanism?.toString("latin1") !== "CURVE") return "not CURVE";
    if (key === undefined || key.byteLength !== PUBLIC_KEY_BYTES) return "no key";
    return this.#options.isAdmitted(new Uint8Array(key)) ? "ok" : "key not vouched for";
  }
}
