// The incoming half of a peer mesh: the CURVE ROUTER bound at the editor's
// endpoint, where every other editor's DEALER connects, and its receive loop.
// Each message is attributed before anything else is read: its connection's
// routing id must be the pair routing id of an admitted editor (only the two
// ends can compute it, and ZAP admitted the key that proved it). Then it is
// decoded, its claimed sender slot checked against the proven one and its
// size against its kind's limit, and handed on. It can also close and bind
// its endpoint again, which cuts every connection it had (ZeroMQ cannot close
// one incoming connection of a ROUTER).
// Must never hand on a message it cannot attribute, never throw on what a
// peer sends (bad input is counted and dropped), and never wait on a consumer.
import { Router, type Context } from "zeromq";
import { invalidArgument } from "../common/album-error.ts";
import type { Logger } from "../common/logger.ts";
import { decodePeerEnvelope, sizeProblem } from "./peer-codec.ts";
import type { SessionKeys } from "./peer-keys.ts";
import type { IncomingEnvelope, PeerMeshStats } from "./peer-mesh-types.ts";
import type { SessionSlot } from "./vector-clock.ts";

const REBIND_ATTEMPTS = 100;
const REBIND_PAUSE_MS = 20;

export interface PeerEndpointOptions {
  context: Context;
  keys: SessionKeys;
  /** The ZAP domain of this endpoint (its mesh's own, see mesh-context.ts). */
  zapDomain: string;
  /** False only in the benchmark's comparison: no CURVE, no ZAP. */
  secure: boolean;
  receiveHighWaterMark: number;
  maxMessageBytes: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  /** The admitted peer a routing id (as received) proves, if any. */
  slotOf(routingId: string): SessionSlot | undefined;
  /** An attributed, decoded and size-checked envelope, with its size on the wire. */
  onEnvelope(incoming: IncomingEnvelope, bytes: number): void;
  stats: PeerMeshStats;
  logger: Logger;
}

export class PeerEndpoint {
  readonly #options: PeerEndpointOptions;
  #router: Router | undefined;
  #endpoint: string | undefined;
  #loop: Promise<void> | undefined;
  #closed = false;

  constructor(options: PeerEndpointOptions) {
    this.#options = options;
  }

  /** Binds `endpoint` ("tcp://host:port", port 0 = ephemeral); returns the bound one. */
  async bind(endpoint: string): Promise<string> {
    const router = await this.#bindRouter(endpoint, false);
    this.#endpoint = router.lastEndpoint ?? endpoint;
    this.#listen(router);
    return this.#endpoint;
  }

  /** Closes the endpoint and binds it again: every connection to it is cut. */
  async rebind(): Promise<void> {
    if (this.#endpoint === undefined || this.#closed) return;
    this.#router?.close();
    await this.#loop;
    if (this.#closed) return;
    this.#listen(await this.#bindRouter(this.#endpoint, true));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#router?.close();
    await this.#loop;
  }

  #listen(router: Router): void {
    this.#router = router;
    this.#loop = this.#receive(router);
  }

  async #bindRouter(endpoint: string, again: boolean): Promise<Router> {
    const o = this.#options;
    for (let attempt = 1; ; attempt++) {
      const router = new Router({
        context: o.context,
        linger: 0,
        handover: true,
        ...(o.secure
          ? {
              curveServer: true,
              curvePublicKey: o.keys.publicKeyZ85,
              curveSecretKey: o.keys.secretKeyZ85,
              zapDomain: o.zapDomain,
              zapEnforceDomain: true,
            }
          : {}),
        receiveHighWaterMark: o.receiveHighWaterMark,
        maxMessageSize: o.maxMessageBytes,
        heartbeatInterval: o.heartbeatIntervalMs,
        heartbeatTimeout: o.heartbeatTimeoutMs,
      });
      try {
        await router.bind(endpoint);
        return router;
      } catch (error) {
        router.close();
        // Binding the same port again right after closing it may find it still held.
        const busy = (error as { code?: string }).code === "EADDRINUSE";
        if (!busy || !again || attempt >= REBIND_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, REBIND_PAUSE_MS));
      }
    }
  }

  async #receive(router: Router): Promise<void> {
    const { stats, logger } = this.#options;
    while (!this.#closed && !router.closed) {
      let frames: Buffer[];
      try {
        frames = await router.receive();
      } catch (error) {
        if (this.#closed || router.closed) return;
        logger.warn({ err: error }, "peer receive failed");
        continue;
      }
      const [routingId, payload] = frames;
      // Who sent it, from the key its connection proved; nothing else is read first.
      const fromSlot =
        routingId === undefined ? undefined : this.#options.slotOf(routingId.toString("latin1"));
      if (fromSlot === undefined) {
        stats.unauthenticated++;
        continue;
      }
      if (frames.length !== 2 || payload === undefined) {
        stats.malformed++;
        logger.warn(
          { fromSlot, frames: frames.length },
          "peer message with unexpected framing dropped",
        );
        continue;
      }
      const incoming = this.#decode(fromSlot, payload);
      if (!incoming) continue;
      stats.received++;
      this.#options.onEnvelope(incoming, payload.byteLength);
    }
  }

  #decode(fromSlot: SessionSlot, payload: Buffer): IncomingEnvelope | undefined {
    try {
      const envelope = decodePeerEnvelope(payload);
      if (envelope.senderSlot !== fromSlot) {
        throw invalidArgument(
          `envelope claims slot ${envelope.senderSlot} on the connection of slot ${fromSlot}`,
        );
      }
      const tooBig = sizeProblem(envelope, payload.byteLength);
      if (tooBig) throw invalidArgument(tooBig);
      return { fromSlot, envelope };
    } catch (error) {
      this.#options.stats.malformed++;
      this.#options.logger.warn({ err: error, fromSlot }, "peer message dropped");
      return undefined;
    }
  }
}
