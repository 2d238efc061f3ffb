// The central server: accepts client connections on TCP, routes their requests
// to the handlers, and owns the store and (optionally) the data-server cluster
// coordinator. Created with its options; start()/stop(); no global state, so
// tests may run several in one process.
import { create } from "@bufbuild/protobuf";
import { createServer, type Server, type Socket } from "node:net";
import { AlbumError } from "../common/album-error.ts";
import { formatHostPort } from "../common/host-port.ts";
import { silentLogger, type Logger } from "../common/logger.ts";
import { NotificationSchema, RingChangedSchema } from "../gen/albumshare/central/v1/central_pb.ts";
import { DEFAULT_MAX_FRAME_BYTES } from "../protocol/frame-decoder.ts";
import { CentralConnection } from "./central-connection.ts";
import { CentralStore } from "./central-store.ts";
import { ClusterCoordinator } from "./cluster/cluster-coordinator.ts";
import type { CentralServices, ConnectionState } from "./handler-context.ts";
import { centralHandlers } from "./handlers/index.ts";
import { LoginTokens } from "./login-tokens.ts";
import { DEFAULT_SCRYPT, decoyHash, type ScryptParameters } from "./password-hasher.ts";
import { DEFAULT_HAND_OFF_INTERVAL_MS, EditingSessions } from "./sessions/editing-sessions.ts";
import { emptyRingProvider, type RingProvider } from "./ring-provider.ts";

export interface CentralServerOptions {
  host: string;
  /** 0 picks an ephemeral port; read `port` after start(). */
  port: number;
  /** Where the database (and the cluster state) live. */
  dir: string;
  logger?: Logger;
  maxFrameBytes?: number;
  /** A connection silent for this long is dropped (clients ping well within it). */
  idleTimeoutMs?: number;
  scrypt?: ScryptParameters;
  /** How often editors hand their changes off (default 1000 ms): the bound on edits lost when every editor crashes. */
  handOffIntervalMs?: number;
  /** How long the slot of an editor whose connection dropped is held for it to resume (default 60 s). */
  resumeGraceMs?: number;
  /** Enables the data-server cluster coordinator (gRPC) when given. */
  cluster?: { host: string; port: number; token: string };
}

export class CentralServer {
  private readonly options: CentralServerOptions;
  private readonly logger: Logger;
  private store: CentralStore | undefined;
  private sessions: EditingSessions | undefined;
  private server: Server | undefined;
  private coordinator: ClusterCoordinator | undefined;
  private readonly connections = new Set<CentralConnection>();
  private unsubscribeRing: (() => void) | undefined;
  private nextConnectionId = 1;

  constructor(options: CentralServerOptions) {
    this.options = options;
    this.logger = options.logger ?? silentLogger();
  }

  get port(): number {
    const address = this.server?.address();
    return typeof address === "object" && address ? address.port : 0;
  }

  get clusterPort(): number {
    return this.coordinator?.port ?? 0;
  }

  async start(): Promise<void> {
    this.store = CentralStore.open(this.options.dir);
    let ring: RingProvider = emptyRingProvider();
    if (this.options.cluster) {
      this.coordinator = new ClusterCoordinator({
        host: this.options.cluster.host,
        port: this.options.cluster.port,
        dir: this.options.dir,
        clusterToken: this.options.cluster.token,
        logger: this.logger,
      });
      await this.coordinator.start();
      ring = this.coordinator.ringProvider();
      this.logger.info(
        {
          address: formatHostPort({ host: this.options.cluster.host, port: this.coordinator.port }),
        },
        "cluster coordinator listening",
      );
    }
    const handOffIntervalMs = this.options.handOffIntervalMs ?? DEFAULT_HAND_OFF_INTERVAL_MS;
    this.sessions = new EditingSessions({
      store: this.store,
      logger: this.logger,
      handOffIntervalMs,
      ...(this.options.resumeGraceMs !== undefined
        ? { resumeGraceMs: this.options.resumeGraceMs }
        : {}),
    });
    const services: CentralServices = {
      store: this.store,
      sessions: this.sessions,
      loginTokens: new LoginTokens(this.store.database),
      handOffIntervalMs,
      logger: this.logger,
      scrypt: this.options.scrypt ?? DEFAULT_SCRYPT,
      decoyPasswordHash: decoyHash(this.options.scrypt ?? DEFAULT_SCRYPT),
      ring,
      connectionsOf: (user) => [...this.connections].filter((c) => c.user === user),
    };
    this.unsubscribeRing = ring.onRingChange((state) => {
      const body = {
        case: "notification" as const,
        value: create(NotificationSchema, {
          body: { case: "ringChanged", value: create(RingChangedSchema, { ring: state }) },
        }),
      };
      for (const connection of this.connections)
        if (connection.user !== undefined) connection.notify(body);
    });
    const server = createServer((socket) => this.accept(socket, services));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error) => reject(AlbumError.from(error)));
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    server.on("error", (error) => this.logger.error({ err: error }, "server socket error"));
    this.logger.info(
      { address: formatHostPort({ host: this.options.host, port: this.port }) },
      "central server listening",
    );
  }

  private accept(socket: Socket, services: CentralServices): void {
    const connection = new CentralConnection({
      id: this.nextConnectionId++,
      socket,
      services,
      handlers: centralHandlers,
      maxFrameBytes: this.options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      idleTimeoutMs: this.options.idleTimeoutMs ?? 30_000,
      onClose: (closed) => {
        this.connections.delete(closed);
        try {
          services.sessions.connectionGone(closed);
        } catch (error) {
          this.logger.error({ err: error, connection: closed.id }, "cleaning up sessions failed");
        }
        this.logger.debug({ connection: closed.id, user: closed.user }, "connection closed");
      },
    });
    this.connections.add(connection);
    this.logger.debug(
      { connection: connection.id, remote: connection.remoteAddress },
      "connection accepted",
    );
  }

  /** Open connections, for tests and status. */
  connectionStates(): readonly ConnectionState[] {
    return [...this.connections];
  }

  async stop(): Promise<void> {
    this.unsubscribeRing?.();
    // Open sessions stay marked open in the store (the next session of such
    // an album starts a new epoch); closing connections must not compact.
    this.sessions?.stopAll();
    const server = this.server;
    this.server = undefined;
    for (const connection of this.connections) connection.close("the server is shutting down");
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Connections that do not finish closing are cut.
        setTimeout(() => {
          for (const connection of this.connections) connection.destroy();
        }, 500).unref();
      });
    }
    await this.coordinator?.stop();
    this.coordinator = undefined;
    this.store?.close();
    this.store = undefined;
    this.logger.info("central server stopped");
  }
}
