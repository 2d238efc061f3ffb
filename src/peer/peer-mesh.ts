// The ZeroMQ adapter of the peer-to-peer layer: one ROUTER bound per editor
// for everything it receives, and one DEALER per remote editor for what it
// sends (routing id = our slot, so the receiver can check the envelope's
// sender). Thin on purpose: it moves PeerEnvelopes and nothing else; ordering,
// repair and the session logic live above it.
// Must never block on a peer: every socket has linger 0, each peer has its own
// bounded outbox (a peer that accepts nothing within the send timeout loses its
// backlog; anti-entropy above repairs it), and removing a peer closes its
// socket with whatever was queued.

import { Dealer, Router } from "zeromq";
import { AlbumError, ErrorCode, invalidArgument } from "../common/album-error.ts";
import { formatHostPort, parseHostPort } from "../common/host-port.ts";
import { silentLogger, type Logger } from "../common/logger.ts";
import type { PeerEnvelope } from "../gen/albumshare/peer/v1/peer_pb.ts";
import { AsyncQueue } from "./async-queue.ts";
import { PeerOutbox } from "./peer-outbox.ts";
import { decodePeerEnvelope, encodePeerEnvelope, type PeerMessageBody } from "./peer-codec.ts";
import { MAX_SESSION_SLOT, type SessionSlot } from "./vector-clock.ts";

/** Where to reach another editor of the session. */
export interface PeerAddress {
  readonly slot: SessionSlot;
  readonly user: string;
  /** "host:port" the peer advertised. */
  readonly address: string;
}

export interface IncomingEnvelope {
  /** Slot of the sender, checked against the connection's routing id. */
  readonly fromSlot: SessionSlot;
  readonly envelope: PeerEnvelope;
}

/**
 * Test hook: decides the fate of each incoming envelope. Returns the delays
 * (ms) after which copies of it are handed on — undefined: at once, once;
 * []: dropped; [0, 30]: twice. Random delays reorder messages.
 */
export type MeshFaultInjector = (incoming: IncomingEnvelope) => readonly number[] | undefined;

export interface PeerMeshOptions {
  /** Our session slot (also our routing id towards every peer). */
  slot: SessionSlot;
  /** Interface to bind (default 127.0.0.1). */
  bindHost?: string;
  /** Port to bind; 0 (default) picks an ephemeral port. */
  bindPort?: number;
  /** Host others should use to reach us (default: bindHost; required for a wildcard bind). */
  advertisedHost?: string;
  /** Port others should use (default: the bound port), e.g. behind port forwarding. */
  advertisedPort?: number;
  /** Messages ZeroMQ queues per outgoing peer (default 1000). */
  sendHighWaterMark?: number;
  /** Messages waiting in our outbox per peer beyond that, before new ones are dropped (default 10,000). */
  outboxLimit?: number;
  /** How long a send may wait on a peer that accepts nothing before its backlog is dropped (default 5000 ms). */
  sendTimeoutMs?: number;
  /** Messages queued by ZeroMQ on the incoming side (default 1000). */
  receiveHighWaterMark?: number;
  /** Decoded envelopes waiting for the consumer before we stop reading (default 1000). */
  incomingQueueLimit?: number;
  /** Largest message accepted; a peer sending more is disconnected (default 64 MiB). */
  maxMessageBytes?: number;
  /** ZMTP heartbeat period, to notice dead TCP connections (default 1000 ms; 0 disables). */
  heartbeatIntervalMs?: number;
  /** Silence after a heartbeat before the connection is dropped (default 5000 ms). */
  heartbeatTimeoutMs?: number;
  faults?: MeshFaultInjector;
  logger?: Logger;
}

export interface PeerMeshStats {
  /** Messages queued for sending, per destination. */
  sent: number;
  /** Messages discarded: outbox full, peer stuck past the send timeout, or peer removed. */
  discarded: number;
  /** sendTo() for a slot that is not a peer. */
  droppedNoPeer: number;
  received: number;
  /** Incoming messages refused (undecodable, or routing id and sender slot disagree). */
  malformed: number;
  /** Incoming messages dropped by the fault injector. */
  droppedByFaults: number;
}

const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
const WILDCARD_HOSTS = new Set(["0.0.0.0", "*", "::", "[::]"]);

const routingIdOf = (slot: SessionSlot): string => `slot-${slot}`;

function slotOfRoutingId(routingId: Buffer): SessionSlot | undefined {
  const match = /^slot-(\d{1,5})$/.exec(routingId.toString("latin1"));
  if (!match) return undefined;
  const slot = Number(match[1]);
  return slot <= MAX_SESSION_SLOT ? slot : undefined;
}

interface Connection {
  readonly peer: PeerAddress;
  readonly socket: Dealer;
  readonly outbox: PeerOutbox;
}

export class PeerMesh {
  readonly slot: SessionSlot;
  readonly #options: PeerMeshOptions;
  readonly #logger: Logger;
  readonly #connections = new Map<SessionSlot, Connection>();
  readonly #incoming: AsyncQueue<IncomingEnvelope>;
  readonly #faultTimers = new Set<NodeJS.Timeout>();
  #faults: MeshFaultInjector | undefined;
  #router: Router | undefined;
  #address: string | undefined;
  #receiveLoop: Promise<void> | undefined;
  #state: "new" | "running" | "stopped" = "new";
  readonly stats: PeerMeshStats = {
    sent: 0,
    discarded: 0,
    droppedNoPeer: 0,
    received: 0,
    malformed: 0,
    droppedByFaults: 0,
  };

  constructor(options: PeerMeshOptions) {
    if (!Number.isInteger(options.slot) || options.slot < 0 || options.slot > MAX_SESSION_SLOT) {
      throw invalidArgument(`session slot must be an integer in 0..${MAX_SESSION_SLOT}`);
    }
    this.slot = options.slot;
    this.#options = options;
    this.#logger = (options.logger ?? silentLogger()).child({
      component: "peer-mesh",
      slot: options.slot,
    });
    this.#faults = options.faults;
    this.#incoming = new AsyncQueue<IncomingEnvelope>(options.incomingQueueLimit ?? 1000);
  }

  /** "host:port" other editors should connect to; known once started. */
  get address(): string {
    if (this.#address === undefined) {
      throw new AlbumError(ErrorCode.FailedPrecondition, "the peer mesh is not started");
    }
    return this.#address;
  }

  get running(): boolean {
    return this.#state === "running";
  }

  /** Binds the incoming socket. Idempotent while running. */
  async start(): Promise<void> {
    if (this.#state === "running") return;
    if (this.#state === "stopped") {
      throw new AlbumError(ErrorCode.FailedPrecondition, "a stopped peer mesh cannot be restarted");
    }
    const bindHost = this.#options.bindHost ?? "127.0.0.1";
    const advertisedHost = this.#options.advertisedHost ?? bindHost;
    if (WILDCARD_HOSTS.has(advertisedHost)) {
      throw invalidArgument(
        `binding to '${bindHost}' needs an advertised host that other editors can reach`,
      );
    }
    const router = new Router({
      linger: 0,
      handover: true,
      receiveHighWaterMark: this.#options.receiveHighWaterMark ?? 1000,
      maxMessageSize: this.#options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      heartbeatInterval: this.#options.heartbeatIntervalMs ?? 1000,
      heartbeatTimeout: this.#options.heartbeatTimeoutMs ?? 5000,
    });
    const endpoint = `tcp://${formatHostPort({ host: bindHost, port: this.#options.bindPort ?? 0 })}`;
    try {
      await router.bind(endpoint);
    } catch (error) {
      router.close();
      throw AlbumError.from(error, ErrorCode.Unavailable);
    }
    const boundPort = Number(/:(\d+)$/.exec(router.lastEndpoint ?? "")?.[1]);
    this.#address = formatHostPort({
      host: advertisedHost,
      port: this.#options.advertisedPort ?? boundPort,
    });
    this.#router = router;
    this.#state = "running";
    this.#receiveLoop = this.#receive(router);
    this.#logger.debug({ address: this.#address }, "peer mesh bound");
  }

  /** Closes every socket at once (queued messages are discarded) and ends incoming(). */
  async stop(): Promise<void> {
    if (this.#state !== "running") {
      this.#state = "stopped";
      this.#incoming.close();
      return;
    }
    this.#state = "stopped";
    for (const timer of this.#faultTimers) clearTimeout(timer);
    this.#faultTimers.clear();
    for (const connection of this.#connections.values()) this.#close(connection);
    this.#connections.clear();
    this.#router?.close();
    await this.#receiveLoop;
    this.#incoming.close();
  }

  /**
   * Connects to a peer (idempotent). A known slot with a new address is
   * reconnected (the slot was reused, or the peer moved). Returns true when a
   * new connection was made.
   */
  addPeer(peer: PeerAddress): boolean {
    this.#requireRunning();
    if (peer.slot === this.slot) throw invalidArgument(`slot ${peer.slot} is our own slot`);
    if (!Number.isInteger(peer.slot) || peer.slot < 0 || peer.slot > MAX_SESSION_SLOT) {
      throw invalidArgument(`peer slot must be an integer in 0..${MAX_SESSION_SLOT}`);
    }
    const { host, port } = parseHostPort(peer.address);
    if (port === 0) throw invalidArgument(`peer address '${peer.address}' has port 0`);
    const existing = this.#connections.get(peer.slot);
    if (existing && existing.peer.address === peer.address) {
      if (existing.peer.user !== peer.user) {
        this.#connections.set(peer.slot, { ...existing, peer });
      }
      return false;
    }
    if (existing) this.#close(existing);
    const socket = new Dealer({
      routingId: routingIdOf(this.slot),
      linger: 0,
      sendTimeout: this.#options.sendTimeoutMs ?? 5000,
      sendHighWaterMark: this.#options.sendHighWaterMark ?? 1000,
      reconnectInterval: 100,
      reconnectMaxInterval: 2000,
      heartbeatInterval: this.#options.heartbeatIntervalMs ?? 1000,
      heartbeatTimeout: this.#options.heartbeatTimeoutMs ?? 5000,
    });
    try {
      socket.connect(`tcp://${formatHostPort({ host, port })}`);
    } catch (error) {
      socket.close();
      this.#connections.delete(peer.slot);
      throw new AlbumError(ErrorCode.InvalidArgument, `cannot connect to '${peer.address}'`, {
        cause: error,
      });
    }
    const outbox = new PeerOutbox(socket, {
      maxQueuedMessages: this.#options.outboxLimit ?? 10_000,
      onDiscard: (count, reason) => {
        this.stats.discarded += count;
        this.#logger.debug({ peer, count, reason }, "messages to peer discarded");
      },
    });
    this.#connections.set(peer.slot, { peer, socket, outbox });
    this.#logger.debug({ peer }, "peer added");
    return true;
  }

  /** Disconnects a peer, discarding what was queued for it. Unknown slots are ignored. */
  removePeer(slot: SessionSlot): boolean {
    const connection = this.#connections.get(slot);
    if (!connection) return false;
    this.#connections.delete(slot);
    this.#close(connection);
    this.#logger.debug({ peer: connection.peer }, "peer removed");
    return true;
  }

  hasPeer(slot: SessionSlot): boolean {
    return this.#connections.has(slot);
  }

  peer(slot: SessionSlot): PeerAddress | undefined {
    return this.#connections.get(slot)?.peer;
  }

  peers(): PeerAddress[] {
    return [...this.#connections.values()].map(({ peer }) => peer);
  }

  /** Sends to every peer; never waits. Returns for how many peers it was queued. */
  broadcast(body: PeerMessageBody): number {
    this.#requireRunning();
    const bytes = encodePeerEnvelope(this.slot, body);
    let queued = 0;
    for (const connection of this.#connections.values()) {
      if (this.#send(connection, bytes)) queued++;
    }
    return queued;
  }

  /** Sends to one peer; never waits. False when the slot is not a peer. */
  sendTo(slot: SessionSlot, body: PeerMessageBody): boolean {
    this.#requireRunning();
    const connection = this.#connections.get(slot);
    if (!connection) {
      this.stats.droppedNoPeer++;
      return false;
    }
    return this.#send(connection, encodePeerEnvelope(this.slot, body));
  }

  /** Incoming envelopes, for one consumer; ends after stop(). */
  incoming(): AsyncIterable<IncomingEnvelope> {
    return this.#incoming;
  }

  /** Replaces the fault injector (test hook); undefined turns it off. */
  setFaultInjector(faults: MeshFaultInjector | undefined): void {
    this.#faults = faults;
  }

  #send(connection: Connection, bytes: Uint8Array): boolean {
    if (!connection.outbox.push(bytes)) return false;
    this.stats.sent++;
    return true;
  }

  #close(connection: Connection): void {
    connection.outbox.close();
    connection.socket.close();
  }

  async #receive(router: Router): Promise<void> {
    while (this.#state === "running") {
      let frames: Buffer[];
      try {
        frames = await router.receive();
      } catch (error) {
        if (this.#state !== "running") return;
        this.#logger.warn({ err: error }, "peer receive failed");
        continue;
      }
      const incoming = this.#decode(frames);
      if (!incoming) continue;
      this.stats.received++;
      const delays = this.#faults?.(incoming);
      if (delays === undefined) {
        await this.#incoming.push(incoming);
        continue;
      }
      if (delays.length === 0) this.stats.droppedByFaults++;
      for (const delay of delays) this.#deliverLater(incoming, delay);
    }
  }

  #decode(frames: Buffer[]): IncomingEnvelope | undefined {
    const [routingId, payload] = frames;
    const fromSlot = routingId === undefined ? undefined : slotOfRoutingId(routingId);
    if (frames.length !== 2 || payload === undefined || fromSlot === undefined) {
      this.stats.malformed++;
      this.#logger.warn({ frames: frames.length }, "peer message with unexpected framing dropped");
      return undefined;
    }
    try {
      const envelope = decodePeerEnvelope(payload);
      if (envelope.senderSlot !== fromSlot) {
        throw invalidArgument(
          `envelope claims slot ${envelope.senderSlot} on the connection of slot ${fromSlot}`,
        );
      }
      return { fromSlot, envelope };
    } catch (error) {
      this.stats.malformed++;
      this.#logger.warn({ err: error, fromSlot }, "peer message dropped");
      return undefined;
    }
  }

  #deliverLater(incoming: IncomingEnvelope, delayMs: number): void {
    const timer = setTimeout(() => {
      this.#faultTimers.delete(timer);
      this.#incoming.offer(incoming);
    }, delayMs);
    this.#faultTimers.add(timer);
  }

  #requireRunning(): void {
    if (this.#state !== "running") {
      throw new AlbumError(ErrorCode.FailedPrecondition, "the peer mesh is not running");
    }
  }
}
