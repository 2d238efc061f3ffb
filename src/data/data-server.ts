// A data server: one node of the content-addressable DHT. It keeps contents
// in its directory (storage/content-store.ts), serves DataService to clients
// and DataPeerService to other servers over gRPC, registers with the central
// server's cluster coordinator, follows the ring it publishes, and joins the
// cluster (receiving the keys of the ranges it takes over) when it is new.
// It never decides the ring: the coordinator does.

import { Server } from "@grpc/grpc-js";
import { grpcServerCredentials } from "../common/tls/grpc-credentials.ts";
import type { Logger } from "pino";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import {
  CHUNK_SIZE,
  FLOW_CONTROL_WINDOW,
  serverChannelOptions,
} from "../common/grpc/channel-options.ts";
import { acquireFolderLock, type FolderLock } from "../common/folder-lock.ts";
import { checkClusterTokenOption } from "../common/grpc/cluster-token.ts";
import { ConnectionPool } from "../common/grpc/connection-pool.ts";
import { widenReceiveWindows } from "../common/grpc/server-receive-window.ts";
import { formatHostPort, parseHostPort } from "../common/host-port.ts";
import { ClusterLink } from "./cluster-link.ts";
import type { DataServerContext } from "./data-server-context.ts";
import { addDataServices } from "./data-services.ts";
import { InFlightUploads } from "./in-flight-uploads.ts";
import { IncomingTransfers } from "./join/incoming-transfers.ts";
import { JoinRunner, type JoinResult } from "./join/join-runner.ts";
import { PullThrough } from "./join/pull-through.ts";
import { RangeCopier } from "./join/range-copier.ts";
import { RingView } from "./ring-view.ts";
import type { Ring } from "../ring/ring.ts";
import { loadOrCreateServerId } from "./server-identity.ts";
import { ContentStore } from "./storage/content-store.ts";
import { openFileLimit, transferBudget } from "./file-handle-budget.ts";
import { DEFAULT_MAX_TRANSFERS, TransferSlots } from "./transfer-slots.ts";

export interface DataServerOptions {
  /** host:port of the central server's cluster coordinator. */
  centralClusterAddress: string;
  /** Interface to listen on, e.g. "127.0.0.1" or "0.0.0.0". */
  host: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** host:port that clients and other servers should use; default host:bound port. */
  advertise?: string;
  /** Data directory: identity, contents. */
  dir: string;
  clusterToken: string;
  logger: Logger;
  /** Free disk space an upload must leave (default 64 MiB). */
  reserveBytes?: number;
  /** Transfers (uploads, downloads, fetches) at once; lowered to fit the file-handle limit. */
  maxTransfers?: number;
  /** A transfer with no chunk received or taken for this long is cancelled (default 30 s). */
  stallTimeoutMs?: number;
  /** Called once the port is bound, before registering (start() resolves later, once joined). */
  onListening?: (info: { serverId: string; address: string; port: number }) => void;
}

/** Below this much storable space (free minus the reserve) a new server does not join. */
export const MIN_STORABLE_BYTES = CHUNK_SIZE;

const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", "[::]", ""]);

export class DataServer {
  private readonly options: DataServerOptions;
  private readonly logger: Logger;
  private readonly store: ContentStore;
  private readonly ringView = new RingView();
  private readonly inFlight = new InFlightUploads();
  private readonly transfers: TransferSlots;
  private readonly incoming = new IncomingTransfers();
  private readonly peers = new ConnectionPool((a) => `data server ${a}`);
  private readonly stopping = new AbortController();
  private grpcServer: Server | undefined;
  private link: ClusterLink | undefined;
  private watching: Promise<void> | undefined;
  private boundPort = 0;
  private id = "";
  private advertised = "";
  private settled!: () => void;
  private readonly settledPromise = new Promise<void>((resolve) => (this.settled = resolve));
  private joinResult: JoinResult | undefined;
  private lock: FolderLock | undefined;

  constructor(options: DataServerOptions) {
    checkClusterTokenOption(options.clusterToken);
    this.options = options;
    this.logger = options.logger;
    this.store = new ContentStore({ dir: options.dir, reserveBytes: options.reserveBytes });
    this.transfers = new TransferSlots({
      maxTransfers: transferBudget(options.maxTransfers ?? DEFAULT_MAX_TRANSFERS, openFileLimit()),
      ...(options.stallTimeoutMs !== undefined ? { stallTimeoutMs: options.stallTimeoutMs } : {}),
    });
  }

  /** Bound port (valid after start). */
  get port(): number {
    return this.boundPort;
  }

  /** Stable identity, kept in the data directory. */
  get serverId(): string {
    return this.id;
  }

  /** The address others use to reach this server. */
  get address(): string {
    return this.advertised;
  }

  /** Keys this server received when it joined (zero when it was already a member). */
  get lastJoin(): JoinResult | undefined {
    return this.joinResult;
  }

  /**
   * Opens the store, listens, registers with the coordinator, follows the ring
   * and completes the join. Resolves once this server is a full member.
   */
  async start(): Promise<void> {
    try {
      await this.startOrThrow();
    } catch (error) {
      // Nothing half-started stays behind: the port, the ring watch, the lock.
      await this.stop().catch(() => undefined);
      throw error;
    }
  }

  private async startOrThrow(): Promise<void> {
    const signal = this.stopping.signal;
    // One owner per folder: a second server on it exits here, naming the first.
    this.lock = acquireFolderLock(this.options.dir, { role: "data server" });
    const { leftovers } = await this.store.open();
    if (leftovers > 0)
      this.logger.info({ leftovers }, "removed unfinished uploads left by a crash");
    const identity = await loadOrCreateServerId(this.options.dir);
    this.id = identity.serverId;
    const pullThrough = new PullThrough({
      store: this.store,
      incoming: this.incoming,
      peers: this.peers,
      clusterToken: this.options.clusterToken,
      logger: this.logger,
    });
    const copier = new RangeCopier({
      store: this.store,
      pullThrough,
      peers: this.peers,
      clusterToken: this.options.clusterToken,
      logger: this.logger,
    });
    const context: DataServerContext = {
      serverId: this.id,
      store: this.store,
      ringView: this.ringView,
      inFlight: this.inFlight,
      transfers: this.transfers,
      pullThrough,
      incoming: this.incoming,
      copier,
      clusterToken: this.options.clusterToken,
      logger: this.logger,
      whenSettled: (timeoutMs) => this.whenSettled(timeoutMs),
    };
    await this.listen(context);
    this.advertised = this.options.advertise ?? this.defaultAdvertise();
    parseHostPort(this.advertised);
    this.lock.describe({ address: this.advertised });
    this.transfers.start();
    const usage = this.store.usage();
    this.logger.info(
      {
        serverId: this.id,
        newIdentity: identity.created,
        address: this.advertised,
        keys: usage.keys,
        bytes: usage.bytes,
        reserveBytes: this.store.reserveBytes,
        maxTransfers: this.transfers.limits.maxTransfers,
        stallTimeoutMs: this.transfers.limits.stallTimeoutMs,
      },
      "data server listening",
    );
    this.options.onListening?.({
      serverId: this.id,
      address: this.advertised,
      port: this.boundPort,
    });

    const link = new ClusterLink({
      address: this.options.centralClusterAddress,
      clusterToken: this.options.clusterToken,
      serverId: this.id,
      logger: this.logger,
    });
    this.link = link;
    const registered = await link.registerPersistently(this.advertised, signal);
    if (!registered.member) await this.refuseToJoinWithoutSpace();
    this.adopt(registered.ring);
    this.watching = link.watch((ring) => this.adopt(ring), signal);
    const runner = new JoinRunner({
      link,
      copier,
      incoming: this.incoming,
      address: this.advertised,
      logger: this.logger,
      onSettled: () => this.settled(),
    });
    this.joinResult = await runner.run(signal);
    await this.ringView.atLeast(this.joinResult.ringVersion, 30_000, signal);
    this.logger.info(
      {
        serverId: this.id,
        ringVersion: this.ringView.version,
        share: this.ringView.current().share(this.id),
      },
      "data server is a member of the cluster",
    );
  }

  async stop(): Promise<void> {
    this.stopping.abort(new AlbumError(ErrorCode.Unavailable, "the data server is stopping"));
    const server = this.grpcServer;
    if (server) {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), 2_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    }
    await this.watching?.catch(() => undefined);
    this.transfers.stop();
    this.link?.close();
    this.peers.close();
    this.lock?.release();
  }

  // A server that cannot store anything would take a share of the keys and
  // refuse every upload for it: it says so and stays out of the ring.
  private async refuseToJoinWithoutSpace(): Promise<void> {
    const { freeBytes, storableBytes } = await this.store.space();
    if (storableBytes >= MIN_STORABLE_BYTES) return;
    throw new AlbumError(
      ErrorCode.ResourceExhausted,
      `this data server cannot store anything: its disk has ${freeBytes} bytes free and ${this.store.reserveBytes} are kept in reserve (--reserve); not joining the cluster`,
    );
  }

  private adopt(ring: Ring): void {
    if (this.ringView.adopt(ring)) {
      this.logger.info(
        {
          ringVersion: ring.version,
          servers: ring.nodes.length,
          share: ring.node(this.id) ? ring.share(this.id) : 0,
        },
        "adopted ring version",
      );
    }
  }

  private async whenSettled(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.settledPromise,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }

  private async listen(context: DataServerContext): Promise<void> {
    const server = new Server(serverChannelOptions);
    addDataServices(server, context);
    const target = formatHostPort({ host: this.options.host, port: this.options.port });
    this.boundPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(target, grpcServerCredentials(), (error, port) => {
        if (error) {
          reject(
            new AlbumError(
              ErrorCode.FailedPrecondition,
              `cannot listen on ${target}: ${error.message}`,
              {
                cause: error,
              },
            ),
          );
        } else resolve(port);
      });
    });
    if (!widenReceiveWindows(server, FLOW_CONTROL_WINDOW)) {
      this.logger.warn("cannot widen the HTTP/2 receive windows; uploads will be slower");
    }
    this.grpcServer = server;
  }

  private defaultAdvertise(): string {
    const host = WILDCARD_HOSTS.has(this.options.host) ? "127.0.0.1" : this.options.host;
    if (host !== this.options.host) {
      this.logger.warn(
        { host: this.options.host },
        "listening on all interfaces without --advertise; advertising 127.0.0.1, which only local clients can reach",
      );
    }
    return formatHostPort({ host, port: this.boundPort });
  }
}
