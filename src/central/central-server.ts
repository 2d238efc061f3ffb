// The central server: accepts client connections on TCP, routes their requests
// to the handlers, and owns the store and (optionally) the data-server cluster
// coordinator. Created with its options; start()/stop(); no global state, so
// tests may run several in one process.
import { create } from "@bufbuild/protobuf";
import type { Server, Socket } from "node:net";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { acquireFolderLock, type FolderLock } from "../common/folder-lock.ts";
import { formatHostPort } from "../common/host-port.ts";
import { silentLogger, type Logger } from "../common/logger.ts";
import { centralPlaintextRefusal } from "../common/tls/plaintext-refusal.ts";
import { createStreamServer } from "../common/tls/stream-transport.ts";
import { NotificationSchema, RingChangedSchema } from "../gen/albumshare/central/v1/central_pb.ts";
import { BufferBudget } from "../protocol/buffer-budget.ts";
import { DEFAULT_MAX_FRAME_BYTES } from "../protocol/frame-decoder.ts";
import { LargeFrameParser } from "../protocol/large-frame-parser.ts";
import { PasswordGuard } from "./auth/password-guard.ts";
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_PRE_LOGIN_MAX_FRAME_BYTES,
} from "./central-limits.ts";
import { CentralConnection } from "./central-connection.ts";
import { CentralStore } from "./central-store.ts";
import { ClusterCoordinator } from "./cluster/cluster-coordinator.ts";
import { storedLostKeysCounter } from "./cluster/stored-lost-keys.ts";
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
  /** Largest frame of a logged-in connection (default 16 MiB). */
  maxFrameBytes?: number;
  /** Largest frame before a login (default 8 KiB). */
  preLoginMaxFrameBytes?: number;
  /** Cap on bytes held in partial frames by all connections together (default 64 MiB). */
  maxBufferedBytes?: number;
  /** A connection that completes no frame for this long is dropped (clients ping well within it). */
  idleTimeoutMs?: number;
  scrypt?: ScryptParameters;
  /** Password hashes at once (default 2). */
  hashConcurrency?: number;
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
  private folderLock: FolderLock | undefined;
  private largeFrames: LargeFrameParser | undefined;

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
    // One owner per folder: a second server on it would serve a diverging
    // copy of every album. Taken first, so nothing is opened without it.
    this.folderLock = acquireFolderLock(this.options.dir, {
      role: "central",
      address: formatHostPort({ host: this.options.host, port: this.options.port }),
    });
    try {
      await this.startLocked();
    } catch (error) {
      await this.stop({ quiet: true }).catch(() => undefined);
      throw error;
    }
  }

  private async startLocked(): Promise<void> {
    this.store = CentralStore.open(this.options.dir);
    let ring: RingProvider = emptyRingProvider();
    if (this.options.cluster) {
      this.coordinator = new ClusterCoordinator({
        host: this.options.cluster.host,
        port: this.options.cluster.port,
        dir: this.options.dir,
        clusterToken: this.options.cluster.token,
        logger: this.logger,
        lostKeys: storedLostKeysCounter(this.store, this.logger),
      });
      await this.coordinator.start().catch((error: unknown) => {
        throw clusterListenError(error, this.options.cluster!);
      });
      ring = this.coordinator.ringProvider();
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
      passwords: new PasswordGuard({
        scrypt: this.options.scrypt ?? DEFAULT_SCRYPT,
        ...(this.options.hashConcurrency ? { concurrency: this.options.hashConcurrency } : {}),
      }),
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
    const budget = new BufferBudget(this.options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES);
    this.largeFrames = new LargeFrameParser(
      new URL(
        `../gen/albumshare/central/v1/central_pb.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`,
        import.meta.url,
      ),
      "ClientFrameSchema",
    );
    const server = createStreamServer({
      onConnection: (socket) => this.accept(socket, services, budget),
      plaintextRefusal: centralPlaintextRefusal,
      onRefused: (remote, reason) => this.logger.warn({ remote, reason }, "connection refused"),
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error) => reject(listenError(error, this.options)));
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    this.folderLock?.describe({
      address: formatHostPort({ host: this.options.host, port: this.port }),
    });
    server.on("error", (error) => this.logger.error({ err: error }, "server socket error"));
    this.logger.info(
      { address: formatHostPort({ host: this.options.host, port: this.port }) },
      "central server listening",
    );
  }

  private accept(socket: Socket, services: CentralServices, budget: BufferBudget): void {
    const connection = new CentralConnection({
      id: this.nextConnectionId++,
      socket,
      services,
      handlers: centralHandlers,
      maxFrameBytes: this.options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      preLoginMaxFrameBytes:
        this.options.preLoginMaxFrameBytes ?? DEFAULT_PRE_LOGIN_MAX_FRAME_BYTES,
      budget,
      ...(this.largeFrames ? { largeFrames: this.largeFrames } : {}),
      idleTimeoutMs: this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
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

  /** `quiet` when cleaning up after a failed start (nothing to announce). */
  async stop({ quiet = false }: { quiet?: boolean } = {}): Promise<void> {
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
    await this.largeFrames?.stop();
    this.largeFrames = undefined;
    await this.coordinator?.stop();
    this.coordinator = undefined;
    this.store?.close();
    this.store = undefined;
    this.folderLock?.release();
    this.folderLock = undefined;
    if (!quiet) this.logger.info("central server stopped");
  }
}

/** EADDRINUSE as one line a person can act on; other errors as they are. */
function listenError(error: unknown, options: CentralServerOptions): AlbumError {
  const address = formatHostPort({ host: options.host, port: options.port });
  if ((error as { code?: unknown }).code === "EADDRINUSE") {
    return new AlbumError(
      ErrorCode.FailedPrecondition,
      `${address} is already in use (is another central server running there?)`,
      { cause: error },
    );
  }
  return AlbumError.from(error);
}

/** The cluster port taken, as one line; other start errors as they are. */
function clusterListenError(error: unknown, cluster: { host: string; port: number }): AlbumError {
  const address = formatHostPort(cluster);
  if (/EADDRINUSE/.test(AlbumError.from(error).message)) {
    return new AlbumError(
      ErrorCode.FailedPrecondition,
      `the cluster address ${address} is already in use (is another central server running there?)`,
      { cause: error },
    );
  }
  return AlbumError.from(error);
}
