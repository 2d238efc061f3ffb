// The cluster coordinator, hosted by the central server on its own gRPC port:
// the membership of the data servers and the ring. Data servers register,
// watch the ring and join through it; it runs at most one join at a time
// (others wait in a queue), commits each ring version to disk before
// publishing it, and asks the previous owners to release handed-over keys
// only after the new owner has confirmed that it holds them.
// It never stores or moves file contents itself.
//
// The two membership protocols run beside it, each over its pure state
// machine: JoinRunner (join-runner.ts) and DecommissionProtocol
// (decommission-protocol.ts). This class owns what they share — the ring, the
// one lock, the persisted state and the "membership changed" signal — and the
// gRPC service.

import { Server } from "@grpc/grpc-js";
import { grpcServerCredentials } from "../../common/tls/grpc-credentials.ts";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import {
  AlbumError,
  ErrorCode,
  failedPrecondition,
  invalidArgument,
} from "../../common/album-error.ts";
import { serverChannelOptions } from "../../common/grpc/channel-options.ts";
import { checkClusterTokenOption, requireClusterToken } from "../../common/grpc/cluster-token.ts";
import { ConnectionPool } from "../../common/grpc/connection-pool.ts";
import { addService, type CallContext } from "../../common/grpc/service-handlers.ts";
import { formatHostPort, parseHostPort } from "../../common/host-port.ts";
import { KeyMutex } from "../../data/storage/key-mutex.ts";
import { isServerId } from "../../data/server-identity.ts";
import {
  ClusterService,
  type GetRingResponseSchema,
  type JoinCompletedRequest,
  type JoinCompletedResponseSchema,
  type JoinCopiedRequest,
  type JoinCopiedResponseSchema,
  type JoinRequest,
  type JoinResponseSchema,
  type RegisterRequest,
  type RegisterResponseSchema,
  type WatchRingRequest,
  type WatchRingResponseSchema,
} from "../../gen/albumshare/cluster/v1/cluster_pb.ts";
import type { RingState } from "../../gen/albumshare/ring/v1/ring_pb.ts";
import { Ring } from "../../ring/ring.ts";
import type { RingProvider } from "../ring-provider.ts";
import { ClusterStateStore, type ClusterState } from "./cluster-state-store.ts";
import type { ClusterStatus } from "./cluster-status.ts";
import { DecommissionProtocol } from "./decommission-protocol.ts";
import { deferred, raceAbort } from "./deferred.ts";
import { JoinRunner } from "./join-runner.ts";
import { queryServerStatuses } from "./query-cluster-status.ts";
import type { LostKeysCounter } from "./stored-lost-keys.ts";

export interface ClusterCoordinatorOptions {
  /** Interface for the cluster gRPC port. */
  host: string;
  /** Cluster gRPC port; 0 picks a free one. */
  port: number;
  /** Directory for the coordinator's state file. */
  dir: string;
  clusterToken: string;
  logger: Logger;
  /**
   * Counts what a forced removal loses from the albums (the central server
   * passes one over its store); without it the count is reported unknown.
   */
  lostKeys?: LostKeysCounter;
}

export class ClusterCoordinator {
  private readonly options: ClusterCoordinatorOptions;
  private readonly logger: Logger;
  private readonly stateStore: ClusterStateStore;
  private readonly peers = new ConnectionPool((a) => `data server ${a}`);
  private readonly stateLock = new KeyMutex();
  private readonly stopping = new AbortController();
  private readonly ringListeners = new Set<(ring: Ring) => void>();
  private readonly joins: JoinRunner;
  private readonly decommissions: DecommissionProtocol;
  private ring: Ring = Ring.empty();
  private changed = deferred();
  private server: Server | undefined;
  private boundPort = 0;
  private background = new Set<Promise<void>>();

  constructor(options: ClusterCoordinatorOptions) {
    checkClusterTokenOption(options.clusterToken);
    this.options = options;
    this.logger = options.logger;
    this.stateStore = new ClusterStateStore(options.dir);
    const shared = {
      logger: options.logger,
      peers: this.peers,
      clusterToken: options.clusterToken,
      stopping: this.stopping.signal,
      ring: () => this.ring,
      locked: (task: () => Promise<void>) => this.stateLock.run("state", task),
      commit: (ring: Ring) => this.commit(ring),
      notify: () => this.notify(),
      changed: () => this.changed.promise,
      track: (task: Promise<void>) => this.track(task),
    };
    this.joins = new JoinRunner({
      ...shared,
      save: (state) => this.saveState(state),
      decommissioning: () => this.decommissions.running,
    });
    this.decommissions = new DecommissionProtocol({
      ...shared,
      lostKeys: options.lostKeys,
      save: (ring, decommission) =>
        this.stateStore.save({
          ring,
          join: this.joins.persisted(),
          lastJoin: this.joins.lastJoin,
          decommission,
        }),
      joining: () => this.joins.active !== null,
      startJoins: () => this.joins.startNext(),
    });
  }

  get port(): number {
    return this.boundPort;
  }

  /** host:port of the bound cluster port. */
  get address(): string {
    return formatHostPort({ host: this.options.host, port: this.boundPort });
  }

  currentRing(): Ring {
    return this.ring;
  }

  /** Calls `listener` with every newly committed ring; returns an unsubscribe function. */
  onRingChange(listener: (ring: Ring) => void): () => void {
    this.ringListeners.add(listener);
    return () => this.ringListeners.delete(listener);
  }

  /** The same, as the central server's RingProvider (protobuf RingState). */
  ringProvider(): RingProvider {
    return {
      currentRing: (): RingState => this.ring.toProto(),
      onRingChange: (listener) => this.onRingChange((ring) => listener(ring.toProto())),
    };
  }

  async start(): Promise<void> {
    const state = await this.stateStore.load();
    this.ring = state.ring;
    await this.joins.resume(state.lastJoin, state.join);
    await this.decommissions.resume(state.decommission);
    const server = new Server(serverChannelOptions);
    addService(server, ClusterService, {
      register: (request, call) => this.register(request, call),
      join: (request, call) => this.join(request, call),
      joinCopied: (request, call) => this.joinCopied(request, call),
      joinCompleted: (request, call) => this.joinCompleted(request, call),
      watchRing: (request, call) => this.watchRing(request, call),
      decommission: (request, call) => {
        this.authenticate(call);
        return this.decommissions.decommission(request, call.signal);
      },
      getRing: async (_request, call): Promise<MessageInitShape<typeof GetRingResponseSchema>> => {
        this.authenticate(call);
        return { ring: this.ring.toProto() };
      },
    });
    const target = formatHostPort({ host: this.options.host, port: this.options.port });
    this.boundPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(target, grpcServerCredentials(), (error, port) => {
        if (error) {
          reject(
            new AlbumError(
              ErrorCode.FailedPrecondition,
              `cannot listen on ${target}: ${error.message}`,
              { cause: error },
            ),
          );
        } else resolve(port);
      });
    });
    this.server = server;
    this.logger.info(
      { port: this.boundPort, ringVersion: this.ring.version, servers: this.ring.nodes.length },
      "cluster coordinator listening",
    );
  }

  async stop(): Promise<void> {
    this.stopping.abort(new AlbumError(ErrorCode.Unavailable, "the central server is stopping"));
    this.changed.resolve();
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), 1_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    }
    await Promise.allSettled([...this.background]);
    this.peers.close();
  }

  /** Ring version, join in progress, and each server's share, keys and bytes (asked of each server). */
  async clusterStatus(): Promise<ClusterStatus> {
    const ring = this.ring;
    const servers = await queryServerStatuses(ring, this.options.clusterToken, this.peers);
    const active = this.joins.active;
    return {
      ringVersion: ring.version,
      servers,
      join: active && { serverId: active.serverId, stage: active.stage },
      waiting: this.joins.waiting(),
      lastJoin: this.joins.lastJoin,
    };
  }

  // ---- RPCs -------------------------------------------------------------

  private authenticate(call: CallContext): void {
    requireClusterToken(call.metadata, this.options.clusterToken);
  }

  private async register(
    request: RegisterRequest,
    call: CallContext,
  ): Promise<MessageInitShape<typeof RegisterResponseSchema>> {
    this.authenticate(call);
    const { serverId, address } = validateServer(request);
    await this.stateLock.run("state", async () => {
      refuseTakenAddress(this.ring, serverId, address);
      const node = this.ring.node(serverId);
      if (node && node.address !== address) {
        const ring = this.ring.withAddress(serverId, address);
        // A join still copying planned with the old address: cancel it; its
        // server starts again with a plan made from the new ring.
        const cancelled = this.joins.copying();
        await this.saveState({
          ring,
          join: cancelled ? null : this.joins.persisted(),
          lastJoin: this.joins.lastJoin,
        });
        this.logger.info(
          { serverId, from: node.address, to: address, ringVersion: ring.version },
          "data server moved",
        );
        if (cancelled)
          this.joins.end(cancelled, "a member changed its address while the join was copying");
        this.commit(ring);
      }
    });
    return { ring: this.ring.toProto(), member: this.ring.node(serverId) !== undefined };
  }

  private async *join(
    request: JoinRequest,
    call: CallContext,
  ): AsyncGenerator<MessageInitShape<typeof JoinResponseSchema>> {
    this.authenticate(call);
    const { serverId, address } = validateServer(request);
    refuseTakenAddress(this.ring, serverId, address);
    yield* this.joins.join(serverId, address, call.signal);
  }

  private async joinCopied(
    request: JoinCopiedRequest,
    call: CallContext,
  ): Promise<MessageInitShape<typeof JoinCopiedResponseSchema>> {
    this.authenticate(call);
    return { ringVersion: BigInt(await this.joins.copied(request.joinId, request.serverId)) };
  }

  private async joinCompleted(
    request: JoinCompletedRequest,
    call: CallContext,
  ): Promise<MessageInitShape<typeof JoinCompletedResponseSchema>> {
    this.authenticate(call);
    const ringVersion = await this.joins.completed(
      {
        joinId: request.joinId,
        serverId: request.serverId,
        movedKeys: Number(request.movedKeys),
        movedBytes: Number(request.movedBytes),
      },
      call.signal,
    );
    return { ringVersion: BigInt(ringVersion) };
  }

  private async *watchRing(
    request: WatchRingRequest,
    call: CallContext,
  ): AsyncGenerator<MessageInitShape<typeof WatchRingResponseSchema>> {
    this.authenticate(call);
    this.logger.debug({ serverId: request.serverId }, "ring watcher connected");
    let sent = -1;
    while (!call.signal.aborted && !this.stopping.signal.aborted) {
      const ring = this.ring;
      if (ring.version > sent) {
        sent = ring.version;
        yield { ring: ring.toProto() };
      }
      const changed = this.changed.promise;
      if (this.ring.version === sent) await raceAbort(changed, call.signal).catch(() => undefined);
    }
  }

  // ---- shared state -----------------------------------------------------

  private saveState(state: Omit<ClusterState, "decommission">): Promise<void> {
    return this.stateStore.save({ ...state, decommission: this.decommissions.persisted });
  }

  private commit(ring: Ring): void {
    this.ring = ring;
    this.notify();
    for (const listener of this.ringListeners) {
      try {
        listener(ring);
      } catch (error) {
        this.logger.error({ error: AlbumError.from(error).message }, "ring listener failed");
      }
    }
  }

  private notify(): void {
    const previous = this.changed;
    this.changed = deferred();
    previous.resolve();
  }

  private track(task: Promise<void>): void {
    const tracked = task.catch((reason: unknown) => {
      this.logger.error(
        { error: AlbumError.from(reason).toLine() },
        "cluster coordinator task failed",
      );
    });
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
  }
}

function validateServer(request: { serverId: string; address: string }): {
  serverId: string;
  address: string;
} {
  if (!isServerId(request.serverId))
    throw invalidArgument(`'${request.serverId.slice(0, 40)}' is not a data server id`);
  const hostPort = parseHostPort(request.address);
  if (hostPort.port === 0)
    throw invalidArgument(`a data server must advertise a real port, not ${request.address}`);
  return { serverId: request.serverId, address: formatHostPort(hostPort) };
}

// One address, one identity: a server with a new identity (a wiped or
// replaced folder) at a member's address would split that member's keys with
// it and leave the old identity in the ring for ever. The operator decides:
// remove the member first, or start the server on its own folder.
function refuseTakenAddress(ring: Ring, serverId: string, address: string): void {
  const holder = ring.nodes.find((n) => n.address === address && n.serverId !== serverId);
  if (!holder) return;
  throw failedPrecondition(
    `the address ${address} belongs to data server ${holder.serverId}, a member of the ring, and this server is ${serverId}` +
      ` (a new identity: was its folder emptied or replaced?); start it on the member's own folder, or remove the member first:` +
      ` albumshare decommission ${holder.serverId} (--force if its data is gone)`,
  );
}
