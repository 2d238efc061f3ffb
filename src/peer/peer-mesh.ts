// The ZeroMQ adapter of the peer-to-peer layer, and its security boundary: one
// CURVE ROUTER bound per editor for everything it receives, and one CURVE
// DEALER per admitted editor for what it sends (see peer-link.ts). Only the
// editors the central server vouched for get in: a ZAP handler admits exactly
// their public keys, and each incoming connection names its sender by a pair
// routing id derived from the two editors' keys (peer-keys.ts), so the slot a
// message counts as coming from is proven by a key, never by what the sender
// writes. Every byte is encrypted by CURVE. The incoming ROUTER and the
// attribution of what arrives are in peer-endpoint.ts; the ZeroMQ context and
// its ZAP handler are shared by the meshes of the process (mesh-context.ts).
// What comes in is queued per sender with a budget (peer-inbox.ts), so a
// flooding peer delays no one else.
// Thin on purpose: it moves PeerEnvelopes and nothing else; ordering, repair
// and the session logic live above it.
// Must never hand on a message it cannot attribute to an admitted editor, and
// never block on a peer: every socket has linger 0, each peer has its own
// bounded outbox, and removing a peer closes its socket with whatever was
// queued, refuses its key from then on and reopens the endpoint, which cuts
// the connections it had open.

import { AlbumError, ErrorCode, invalidArgument } from "../common/album-error.ts";
import { formatHostPort, parseHostPort } from "../common/host-port.ts";
import { silentLogger, type Logger } from "../common/logger.ts";
import { MeshContext } from "./mesh-context.ts";
import { PeerAdmissions } from "./peer-admissions.ts";
import { PeerEndpoint } from "./peer-endpoint.ts";
import { PeerInbox } from "./peer-inbox.ts";
import { checkPublicKey } from "./peer-keys.ts";
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  type IncomingEnvelope,
  type MeshFaultInjector,
  type PeerAddress,
  type PeerMeshOptions,
  type PeerMeshStats,
} from "./peer-mesh-types.ts";
import { PeerLink } from "./peer-link.ts";
import { encodePeerEnvelope, type PeerMessageBody } from "./peer-codec.ts";
import type { ZapStats } from "./zap-authenticator.ts";

export { DEFAULT_MAX_MESSAGE_BYTES } from "./peer-mesh-types.ts";
export type {
  IncomingEnvelope,
  MeshFaultInjector,
  PeerAddress,
  PeerMeshOptions,
  PeerMeshStats,
} from "./peer-mesh-types.ts";
import { MAX_SESSION_SLOT, type SessionSlot } from "./vector-clock.ts";

const WILDCARD_HOSTS = new Set(["0.0.0.0", "*", "::", "[::]"]);
const SESSION_TOKEN_BYTES = 16;

interface Connection {
  readonly peer: PeerAddress;
  readonly link: PeerLink;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

export class PeerMesh {
  readonly slot: SessionSlot;
  readonly #options: PeerMeshOptions;
  readonly #logger: Logger;
  readonly #connections = new Map<SessionSlot, Connection>();
  /** Peers whose connections we accept. */
  readonly #admitted: PeerAdmissions;
  readonly #incoming: PeerInbox<IncomingEnvelope>;
  readonly #shared: MeshContext;
  readonly #zapDomain: string;
  readonly #zapStats: ZapStats = { admitted: 0, refused: 0 };
  readonly #endpoint: PeerEndpoint;
  readonly #faultTimers = new Set<NodeJS.Timeout>();
  #faults: MeshFaultInjector | undefined;
  #address: string | undefined;
  #state: "new" | "running" | "stopped" = "new";
  readonly stats: PeerMeshStats = {
    sent: 0,
    discarded: 0,
    droppedNoPeer: 0,
    received: 0,
    malformed: 0,
    unauthenticated: 0,
    overBudget: 0,
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
    if (options.sessionToken.byteLength !== SESSION_TOKEN_BYTES) {
      throw invalidArgument(`a session token has ${SESSION_TOKEN_BYTES} bytes`);
    }
    this.#faults = options.faults;
    this.#incoming = new PeerInbox<IncomingEnvelope>({
      maxMessagesPerPeer: options.incomingQueueLimit ?? 1000,
      maxBytesPerPeer: options.incomingBytesLimit ?? 16 * 1024 * 1024,
    });
    this.#admitted = new PeerAdmissions(options.keys, options.sessionToken);
    this.#shared = options.context ?? MeshContext.processWide();
    this.#zapDomain = this.#shared.newDomain(options.sessionToken);
    this.#endpoint = new PeerEndpoint({
      context: this.#shared.context,
      keys: options.keys,
      zapDomain: this.#zapDomain,
      secure: this.#secure,
      receiveHighWaterMark: options.receiveHighWaterMark ?? 64,
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1000,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 5000,
      slotOf: (routingId) => this.#admitted.slotOf(routingId),
      onEnvelope: (incoming, bytes) => this.#received(incoming, bytes),
      stats: this.stats,
      logger: this.#logger,
    });
  }

  /** Handshakes refused by our ZAP handler, and admitted. */
  get admissions(): { admitted: number; refused: number } {
    return { ...this.#zapStats };
  }

  /** "host:port" other editors should connect to; known once started. */
  get address(): string {
    if (this.#address === undefined) {
      throw new AlbumError(ErrorCode.FailedPrecondition, "the peer mesh is not started");
    }
    return this.#address;
  }

  get #secure(): boolean {
    return this.#options.security !== "none";
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
    if (this.#secure) {
      await this.#shared.register(this.#zapDomain, {
        isAdmitted: (key) => this.#admitted.admitsKey(key),
        stats: this.#zapStats,
        logger: this.#logger,
      });
    }
    const endpoint = `tcp://${formatHostPort({ host: bindHost, port: this.#options.bindPort ?? 0 })}`;
    let bound: string;
    try {
      bound = await this.#endpoint.bind(endpoint);
    } catch (error) {
      if (this.#secure) await this.#shared.unregister(this.#zapDomain);
      throw AlbumError.from(error, ErrorCode.Unavailable);
    }
    const boundPort = Number(/:(\d+)$/.exec(bound)?.[1]);
    this.#address = formatHostPort({
      host: advertisedHost,
      port: this.#options.advertisedPort ?? boundPort,
    });
    this.#state = "running";
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
    this.#admitted.clear();
    await this.#endpoint.close();
    if (this.#secure) await this.#shared.unregister(this.#zapDomain);
    this.#incoming.close();
  }

  /**
   * Accepts connections from a peer the central server vouched for, without
   * connecting to it (yet): lets it reach us before we know its address.
   * A slot's earlier admission is replaced.
   */
  admit(peer: Pick<PeerAddress, "slot" | "publicKey">): void {
    this.#admitted.admit(peer.slot, peer.publicKey);
  }

  /**
   * Connects to a peer (idempotent), admitting it. A known slot with a new address is
   * reconnected (the slot was reused, or the peer moved). Returns true when a
   * new connection was made.
   */
  addPeer(peer: PeerAddress): boolean {
    this.#requireRunning();
    if (peer.slot === this.slot) throw invalidArgument(`slot ${peer.slot} is our own slot`);
    if (!Number.isInteger(peer.slot) || peer.slot < 0 || peer.slot > MAX_SESSION_SLOT) {
      throw invalidArgument(`peer slot must be an integer in 0..${MAX_SESSION_SLOT}`);
    }
    checkPublicKey(peer.publicKey);
    const { host, port } = parseHostPort(peer.address);
    if (port === 0) throw invalidArgument(`peer address '${peer.address}' has port 0`);
    const existing = this.#connections.get(peer.slot);
    if (
      existing &&
      existing.peer.address === peer.address &&
      hex(existing.peer.publicKey) === hex(peer.publicKey)
    ) {
      if (existing.peer.user !== peer.user) {
        this.#connections.set(peer.slot, { ...existing, peer });
      }
      return false;
    }
    if (existing) this.#close(existing);
    const keys = this.#options.keys;
    const token = this.#options.sessionToken;
    const link = new PeerLink({
      context: this.#shared.context,
      endpoint: `tcp://${formatHostPort({ host, port })}`,
      peerPublicKey: peer.publicKey,
      ourPublicKeyZ85: keys.publicKeyZ85,
      ourSecretKeyZ85: keys.secretKeyZ85,
      routingId: keys.pairRoutingId(peer.publicKey, "to-peer", token),
      sendTimeoutMs: this.#options.sendTimeoutMs ?? 5000,
      sendHighWaterMark: this.#options.sendHighWaterMark ?? 1000,
      outboxLimit: this.#options.outboxLimit ?? 10_000,
      heartbeatIntervalMs: this.#options.heartbeatIntervalMs ?? 1000,
      heartbeatTimeoutMs: this.#options.heartbeatTimeoutMs ?? 5000,
      secure: this.#secure,
      onDiscard: (count, reason) => {
        this.stats.discarded += count;
        this.#logger.debug({ slot: peer.slot, count, reason }, "messages to peer discarded");
      },
      logger: this.#logger,
    });
    this.#connections.set(peer.slot, { peer, link });
    this.admit(peer);
    this.#logger.debug({ slot: peer.slot, user: peer.user, address: peer.address }, "peer added");
    return true;
  }

  /**
   * Disconnects a peer, discarding what was queued for it and refusing its
   * key from now on; messages already on their way from it are dropped unread.
   * Unknown slots are ignored.
   */
  removePeer(slot: SessionSlot): boolean {
    const connection = this.#connections.get(slot);
    const admitted = this.#admitted.has(slot);
    if (!connection && !admitted) return false;
    this.#admitted.revoke(slot);
    this.#incoming.forget(slot);
    if (connection) {
      this.#connections.delete(slot);
      this.#close(connection);
    }
    this.#logger.debug({ slot, user: connection?.peer.user }, "peer removed");
    return connection !== undefined;
  }

  /**
   * removePeer, and also cuts the connection the peer holds open to us: the
   * endpoint is closed and bound again at once (ZeroMQ cannot close one
   * incoming connection of a ROUTER). The other editors reconnect by
   * themselves and are admitted again; what was in flight is repaired above.
   */
  async revokePeer(slot: SessionSlot): Promise<boolean> {
    const known = this.#admitted.has(slot) || this.#connections.has(slot);
    this.removePeer(slot);
    if (!known) return false;
    if (this.#state !== "running") return true;
    try {
      await this.#endpoint.rebind();
    } catch (error) {
      this.#logger.error({ err: error }, "cannot bind the peer endpoint again");
      throw AlbumError.from(error, ErrorCode.Unavailable);
    }
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

  /** Envelopes from `slot` received and not yet taken by the consumer. */
  queuedFrom(slot: SessionSlot): number {
    return this.#incoming.held(slot);
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
    if (!connection.link.send(bytes)) return false;
    this.stats.sent++;
    return true;
  }

  #close(connection: Connection): void {
    connection.link.close();
  }

  /** An attributed envelope from the endpoint: through the fault hook (tests) to the inbox. */
  #received(incoming: IncomingEnvelope, bytes: number): void {
    const delays = this.#faults?.(incoming);
    if (delays === undefined) {
      this.#deliver(incoming, bytes);
      return;
    }
    if (delays.length === 0) this.stats.droppedByFaults++;
    for (const delay of delays) this.#deliverLater(incoming, bytes, delay);
  }

  #deliver(incoming: IncomingEnvelope, bytes: number): void {
    // Between receipt and now the peer may have been removed.
    if (!this.#admitted.has(incoming.fromSlot)) return;
    if (!this.#incoming.offer(incoming.fromSlot, incoming, bytes)) this.stats.overBudget++;
  }

  #deliverLater(incoming: IncomingEnvelope, bytes: number, delayMs: number): void {
    const timer = setTimeout(() => {
      this.#faultTimers.delete(timer);
      this.#deliver(incoming, bytes);
    }, delayMs);
    this.#faultTimers.add(timer);
  }

  #requireRunning(): void {
    if (this.#state !== "running") {
      throw new AlbumError(ErrorCode.FailedPrecondition, "the peer mesh is not running");
    }
  }
}
