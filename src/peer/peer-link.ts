// The outgoing half of the mesh towards one admitted editor: a CURVE DEALER
// that knows the peer's public key (so it talks only to the holder of the
// matching secret key: CURVE authenticates the server to the client) and
// presents our pair routing id (so the peer knows which admitted editor we
// are). A peer that has not admitted us yet (the central server's notice
// about us has not reached it) refuses the handshake, and ZeroMQ never
// retries a refused one; the link then opens a fresh socket after a backoff,
// for as long as the link lives. Messages queued on the refused socket are
// lost; the session's repair brings their content. Must never block a sender
// and never outlive close().
import { Dealer, type Context } from "zeromq";
import { silentLogger, type Logger } from "../common/logger.ts";
import { PeerOutbox } from "./peer-outbox.ts";
import { z85Encode } from "./z85.ts";

export interface PeerLinkOptions {
  context: Context;
  endpoint: string;
  peerPublicKey: Uint8Array;
  ourPublicKeyZ85: string;
  ourSecretKeyZ85: string;
  /** Presented to the peer as hex text (zeromq.js takes routing ids as strings). */
  routingId: Uint8Array;
  sendTimeoutMs: number;
  sendHighWaterMark: number;
  outboxLimit: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  /** False only in the benchmark's comparison (see PeerMeshOptions.security). */
  secure: boolean;
  onDiscard: (count: number, reason: string) => void;
  logger?: Logger;
}

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2000;

export class PeerLink {
  readonly #options: PeerLinkOptions;
  readonly #logger: Logger;
  #socket!: Dealer;
  #outbox!: PeerOutbox;
  #retryMs = FIRST_RETRY_MS;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Handshakes the peer refused (it had not admitted our key yet, or never will). */
  refusals = 0;

  constructor(options: PeerLinkOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger();
    this.#open();
  }

  /** Queues one message; false when refused (backlog full, or closed). */
  send(bytes: Uint8Array): boolean {
    return this.#outbox.push(bytes);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#outbox.close();
    this.#socket.close();
  }

  #open(): void {
    const o = this.#options;
    const socket = new Dealer({
      context: o.context,
      routingId: Buffer.from(o.routingId).toString("hex"),
      linger: 0,
      sendTimeout: o.sendTimeoutMs,
      sendHighWaterMark: o.sendHighWaterMark,
      reconnectInterval: 100,
      reconnectMaxInterval: 2000,
      heartbeatInterval: o.heartbeatIntervalMs,
      heartbeatTimeout: o.heartbeatTimeoutMs,
      ...(o.secure
        ? {
            curveServerKey: z85Encode(o.peerPublicKey),
            curvePublicKey: o.ourPublicKeyZ85,
            curveSecretKey: o.ourSecretKeyZ85,
          }
        : {}),
    });
    socket.events.on("handshake:error:auth", () => this.#refused(socket));
    socket.events.on("handshake", () => {
      if (socket === this.#socket) this.#retryMs = FIRST_RETRY_MS;
    });
    socket.connect(o.endpoint);
    this.#socket = socket;
    this.#outbox = new PeerOutbox(socket, {
      maxQueuedMessages: o.outboxLimit,
      onDiscard: o.onDiscard,
    });
  }

  #refused(socket: Dealer): void {
    if (this.#closed || socket !== this.#socket || this.#retryTimer !== undefined) return;
    this.refusals++;
    this.#logger.debug({ retryMs: this.#retryMs }, "peer refused our handshake; retrying");
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#closed) return;
      this.#outbox.close();
      this.#socket.close();
      this.#open();
    }, this.#retryMs);
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
  }
}
