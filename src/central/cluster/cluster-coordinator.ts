// The cluster coordinator, hosted by the central server on its own gRPC port:
// the membership of the data servers and the ring. Data servers register,
// watch the ring and join through it; it runs at most one join at a time
// (others wait in a queue), commits each ring version to disk before
// publishing it, and asks the previous owners to release handed-over keys
// only after the new owner has confirmed that it holds them.
// It never stores or moves file contents itself.

import { randomUUID } from "node:crypto";
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
import { backoffDelay, sleep } from "../../common/grpc/backoff.ts";
import { serverChannelOptions } from "../../common/grpc/channel-options.ts";
import {
  checkClusterTokenOption,
  clusterTokenMetadata,
  requireClusterToken,
} from "../../common/grpc/cluster-token.ts";
import { ConnectionPool } from "../../common/grpc/connection-pool.ts";
import { addService, type CallContext } from "../../common/grpc/service-handlers.ts";
import { formatHostPort, parseHostPort } from "../../common/host-port.ts";
import { KeyMutex } from "../../data/storage/key-mutex.ts";
import { isServerId } from "../../data/server-identity.ts";
import {
  ClusterService,
  JoinPhase,
  type DecommissionRequest,
  type DecommissionResponseSchema,
  type GetRingResponseSchema,
  type JoinCompletedRequest,
  type JoinCompletedResponseSchema,
  type JoinCopiedRequest,
  type JoinCopiedResponseSchema,
  type JoinPlanSchema,
  type JoinRequest,
  type JoinResponseSchema,
  type RegisterRequest,
  type RegisterResponseSchema,
  type WatchRingRequest,
  type WatchRingResponseSchema,
} from "../../gen/albumshare/cluster/v1/cluster_pb.ts";
import { DataPeerService } from "../../gen/albumshare/data/v1/data_pb.ts";
import type { RingState } from "../../gen/albumshare/ring/v1/ring_pb.ts";
import { Ring, type TokenRange } from "../../ring/ring.ts";
import type { RingProvider } from "../ring-provider.ts";
import {
  ClusterStateStore,
  type ClusterState,
  type CompletedJoin,
  type PersistedJoin,
} from "./cluster-state-store.ts";
import {
  cancelBeforeSwitch,
  forceRemove,
  planDecommission,
  type MembershipSnapshot,
  type PersistedDecommission,
} from "./decommission.ts";
import { DecommissionRunner } from "./decommission-runner.ts";
import type { ClusterStatus } from "./cluster-status.ts";
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

interface ActiveJoin extends PersistedJoin {
  /** Join streams of the joining server currently open. */
  attached: number;
  finished: Promise<void>;
  finish: () => void;
}

interface JoinTicket {
  serverId: string;
  address: string;
  /** Join streams waiting on this ticket. */
  waiters: number;
  /** Resolves when this ticket's join has started (or is not needed). */
  turn: Promise<void>;
  start: () => void;
}

const ABANDONED_JOIN_MS = 10_000;

export class ClusterCoordinator {
  private readonly options: ClusterCoordinatorOptions;
  private readonly logger: Logger;
  private readonly stateStore: ClusterStateStore;
  private readonly peers = new ConnectionPool((a) => `data server ${a}`);
  private readonly stateLock = new KeyMutex();
  private readonly stopping = new AbortController();
  private readonly ringListeners = new Set<(ring: Ring) => void>();
  private ring: Ring = Ring.empty();
  private active: ActiveJoin | null = null;
  private lastJoin: CompletedJoin | null = null;
  private queue: JoinTicket[] = [];
  private changed = deferred();
  private server: Server | undefined;
  private boundPort = 0;
  private background = new Set<Promise<void>>();
  /** The decommission in progress, as persisted. */
  private decommissionState: PersistedDecommission | null = null;
  /** True while a decommission holds the membership (no join starts meanwhile). */
  private decommissioning = false;

  constructor(options: ClusterCoordinatorOptions) {
    checkClusterTokenOption(options.clusterToken);
    this.options = options;
    this.logger = options.logger;
    this.stateStore = new ClusterStateStore(options.dir);
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
    this.lastJoin = state.lastJoin;
    if (state.join) await this.resume(state.join);
    this.decommissionState = state.decommission;
    if (state.decommission) await this.resumeDecommission(state.decommission);
    const server = new Server(serverChannelOptions);
    addService(server, ClusterService, {
      register: (request, call) => this.register(request, call),
      join: (request, call) => this.join(request, call),
      joinCopied: (request, call) => this.joinCopied(request, call),
      joinCompleted: (request, call) => this.joinCompleted(request, call),
      watchRing: (request, call) => this.watchRing(request, call),
      decommission: (request, call) => this.decommission(request, call),
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
    return {
      ringVersion: ring.version,
      servers,
      join: this.active && { serverId: this.active.serverId, stage: this.active.stage },
      waiting: this.queue.map((t) => t.serverId),
      lastJoin: this.lastJoin,
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
        const cancelled = this.active?.stage === "copy" ? this.active : null;
        await this.saveState({
          ring,
          join: cancelled ? null : this.persistedJoin(),
          lastJoin: this.lastJoin,
        });
        this.logger.info(
          { serverId, from: node.address, to: address, ringVersion: ring.version },
          "data server moved",
        );
        if (cancelled)
          this.endJoin(cancelled, "a member changed its address while the join was copying");
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
    if (this.active?.serverId === serverId) {
      yield* this.follow(this.active, call);
      return;
    }
    if (this.ring.node(serverId)) {
      yield { event: { case: "done", value: { ringVersion: BigInt(this.ring.version) } } };
      return;
    }
    const ticket = this.ticketFor(serverId, address);
    ticket.waiters++;
    try {
      let lastAnnounced = "";
      while (this.active?.serverId !== serverId) {
        if (this.ring.node(serverId)) break;
        // Announced once per join it waits for (none when it is next anyway).
        const waitingFor = this.active?.serverId;
        if (waitingFor !== undefined && waitingFor !== lastAnnounced) {
          lastAnnounced = waitingFor;
          const ahead = this.queue.indexOf(ticket) + 1;
          this.logger.info(
            { serverId, waitingFor, ahead },
            "a data server waits to join until the current join completes",
          );
          yield { event: { case: "queued", value: { waitingFor, ahead } } };
        }
        await raceAbort(Promise.race([ticket.turn, this.changed.promise]), call.signal);
      }
    } finally {
      ticket.waiters--;
      // A joiner that gave up while queued leaves the queue.
      if (ticket.waiters === 0 && this.queue.includes(ticket))
        this.queue = this.queue.filter((t) => t !== ticket);
    }
    if (this.active?.serverId === serverId) yield* this.follow(this.active, call);
    else yield { event: { case: "done", value: { ringVersion: BigInt(this.ring.version) } } };
  }

  private async *follow(
    active: ActiveJoin,
    call: CallContext,
  ): AsyncGenerator<MessageInitShape<typeof JoinResponseSchema>> {
    active.attached++;
    try {
      yield { event: { case: "plan", value: this.planOf(active) } };
      await raceAbort(active.finished, call.signal);
      yield { event: { case: "done", value: { ringVersion: BigInt(this.ring.version) } } };
    } finally {
      active.attached--;
      if (active.attached === 0 && active.stage === "copy" && this.active === active) {
        // Nothing was switched yet: cancelling loses nothing, and frees the
        // cluster for the next joiner. The server starts over if it returns.
        await this.stateLock.run("state", async () => {
          if (this.active !== active || active.stage !== "copy" || active.attached > 0) return;
          await this.saveState({ ring: this.ring, join: null, lastJoin: this.lastJoin });
          this.endJoin(active, "the joining server went away before the ring switched");
        });
      }
    }
  }

  private async joinCopied(
    request: JoinCopiedRequest,
    call: CallContext,
  ): Promise<MessageInitShape<typeof JoinCopiedResponseSchema>> {
    this.authenticate(call);
    return this.stateLock.run("state", async () => {
      const active = this.activeJoin(request.joinId, request.serverId);
      if (active.stage === "copy") {
        const next = active.nextRing;
        await this.saveState({
          ring: next,
          join: { ...persisted(active), stage: "finish" },
          lastJoin: this.lastJoin,
        });
        active.stage = "finish";
        this.logger.info(
          { serverId: active.serverId, ringVersion: next.version },
          "join: ring switched",
        );
        this.commit(next);
      }
      return { ringVersion: BigInt(this.ring.version) };
    });
  }

  private async joinCompleted(
    request: JoinCompletedRequest,
    call: CallContext,
  ): Promise<MessageInitShape<typeof JoinCompletedResponseSchema>> {
    this.authenticate(call);
    if (!this.active && this.lastJoin?.joinId === request.joinId)
      return { ringVersion: BigInt(this.ring.version) };
    const active = await this.stateLock.run("state", async () => {
      const found = this.activeJoin(request.joinId, request.serverId);
      if (found.stage === "copy")
        throw failedPrecondition("the join cannot complete before the ring has switched");
      if (found.stage === "finish") {
        await this.saveState({
          ring: this.ring,
          join: { ...persisted(found), stage: "release" },
          lastJoin: this.lastJoin,
        });
        found.stage = "release";
        this.track(
          this.releaseAndFinish(found, Number(request.movedKeys), Number(request.movedBytes)),
        );
      }
      return found;
    });
    await raceAbort(active.finished, call.signal);
    return { ringVersion: BigInt(this.ring.version) };
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

  // ---- join bookkeeping -------------------------------------------------

  private ticketFor(serverId: string, address: string): JoinTicket {
    const existing = this.queue.find((t) => t.serverId === serverId);
    if (existing) {
      existing.address = address;
      return existing;
    }
    const gate = deferred();
    const ticket: JoinTicket = {
      serverId,
      address,
      waiters: 0,
      turn: gate.promise,
      start: gate.resolve,
    };
    this.queue.push(ticket);
    this.track(this.pump());
    return ticket;
  }

  // Starts the next queued join when none is running.
  private async pump(): Promise<void> {
    await this.stateLock.run("state", async () => {
      while (!this.active && !this.decommissioning && this.queue.length > 0) {
        const ticket = this.queue.shift()!;
        if (this.ring.node(ticket.serverId)) {
          ticket.start();
          continue;
        }
        const nextRing = this.ring.withServer(ticket.serverId, ticket.address);
        const transfers = this.ring.transfersTo(nextRing);
        const gate = deferred();
        const active: ActiveJoin = {
          joinId: randomUUID(),
          serverId: ticket.serverId,
          address: ticket.address,
          stage: "copy",
          nextRing,
          transfers,
          attached: 0,
          finished: gate.promise,
          finish: gate.resolve,
        };
        await this.saveState({
          ring: this.ring,
          join: persisted(active),
          lastJoin: this.lastJoin,
        });
        this.active = active;
        this.logger.info(
          {
            serverId: active.serverId,
            address: active.address,
            nextVersion: nextRing.version,
            ranges: transfers.length,
          },
          "join started",
        );
        ticket.start();
        this.track(this.cancelIfAbandoned(active));
      }
    });
    this.notify();
  }

  // A join whose server went away between being dequeued and receiving its
  // plan would hold the cluster forever; it is cancelled (nothing switched).
  private async cancelIfAbandoned(active: ActiveJoin): Promise<void> {
    await sleep(ABANDONED_JOIN_MS, this.stopping.signal).catch(() => undefined);
    await this.stateLock.run("state", async () => {
      if (
        this.stopping.signal.aborted ||
        this.active !== active ||
        active.stage !== "copy" ||
        active.attached > 0
      )
        return;
      await this.saveState({ ring: this.ring, join: null, lastJoin: this.lastJoin });
      this.endJoin(active, "the joining server never took its plan");
    });
  }

  private planOf(active: ActiveJoin): MessageInitShape<typeof JoinPlanSchema> {
    return {
      joinId: active.joinId,
      phase: active.stage === "copy" ? JoinPhase.COPY : JoinPhase.FINISH,
      nextRing: active.nextRing.toProto(),
      transfers: active.transfers.map((t) => ({
        range: { start: t.range.start, end: t.range.end },
        fromServerId: t.from,
        fromAddress: this.ring.node(t.from)?.address ?? active.nextRing.node(t.from)?.address ?? "",
      })),
    };
  }

  private activeJoin(joinId: string, serverId: string): ActiveJoin {
    const active = this.active;
    if (!active || active.joinId !== joinId || active.serverId !== serverId) {
      throw failedPrecondition(`no join ${joinId} of ${serverId} is in progress`);
    }
    return active;
  }

  private persistedJoin(): PersistedJoin | null {
    return this.active && persisted(this.active);
  }

  // Asks every previous owner to delete what it handed over, retrying until
  // each has answered (servers are assumed to come back), then ends the join.
  private async releaseAndFinish(
    active: ActiveJoin,
    movedKeys: number,
    movedBytes: number,
  ): Promise<void> {
    const bySource = new Map<string, TokenRange[]>();
    for (const t of active.transfers)
      bySource.set(t.from, [...(bySource.get(t.from) ?? []), t.range]);
    const version = active.nextRing.version;
    await Promise.all(
      [...bySource].map(async ([from, ranges]) => {
        for (let attempt = 0; ; attempt++) {
          const address = this.ring.node(from)?.address;
          try {
            if (!address) return;
            const reply = await this.peers.get(address).unary(
              DataPeerService.method.release,
              { ranges, ringVersion: BigInt(version) },
              {
                metadata: clusterTokenMetadata(this.options.clusterToken),
                signal: this.stopping.signal,
              },
            );
            this.logger.info(
              {
                from,
                deletedKeys: Number(reply.deletedKeys),
                deletedBytes: Number(reply.deletedBytes),
              },
              "join: previous owner released handed-over keys",
            );
            return;
          } catch (reason) {
            if (this.stopping.signal.aborted) return;
            this.logger.warn(
              { from, error: AlbumError.from(reason).toLine() },
              "join: release failed; retrying",
            );
            await sleep(backoffDelay(attempt), this.stopping.signal).catch(() => undefined);
          }
        }
      }),
    );
    if (this.stopping.signal.aborted) return;
    await this.stateLock.run("state", async () => {
      const lastJoin: CompletedJoin = {
        joinId: active.joinId,
        serverId: active.serverId,
        ringVersion: version,
        movedKeys,
        movedBytes,
        completedAt: new Date().toISOString(),
      };
      await this.saveState({ ring: this.ring, join: null, lastJoin });
      this.lastJoin = lastJoin;
      this.logger.info(
        { serverId: active.serverId, ringVersion: version, movedKeys, movedBytes },
        "join completed",
      );
      this.endJoin(active);
    });
    this.track(this.pump());
  }

  // Clears the join in memory (its persisted state is already cleared).
  private endJoin(active: ActiveJoin, cancelledBecause?: string): void {
    if (this.active !== active) return;
    this.active = null;
    if (cancelledBecause) {
      this.logger.warn(
        { serverId: active.serverId, reason: cancelledBecause },
        "join cancelled before the ring switched",
      );
    }
    active.finish();
    this.notify();
    this.track(this.pump());
  }

  private async resume(join: PersistedJoin): Promise<void> {
    if (join.stage === "copy") {
      // Nothing switched yet: drop it; the server starts again on reconnect.
      await this.saveState({ ring: this.ring, join: null, lastJoin: this.lastJoin });
      this.logger.info(
        { serverId: join.serverId },
        "a join interrupted before the ring switched was cancelled",
      );
      return;
    }
    const gate = deferred();
    this.active = { ...join, attached: 0, finished: gate.promise, finish: gate.resolve };
    this.logger.info(
      { serverId: join.serverId, stage: join.stage },
      "resuming an interrupted join",
    );
    if (join.stage === "release") this.track(this.releaseAndFinish(this.active, 0, 0));
  }

  // ---- decommission -----------------------------------------------------

  private async decommission(
    request: DecommissionRequest,
    call: CallContext,
  ): Promise<MessageInitShape<typeof DecommissionResponseSchema>> {
    this.authenticate(call);
    if (!isServerId(request.serverId))
      throw invalidArgument(`'${request.serverId.slice(0, 40)}' is not a data server id`);
    // One membership change at a time: wait for the join or decommission running.
    while (this.active || this.decommissioning) await raceAbort(this.changed.promise, call.signal);
    this.decommissioning = true;
    try {
      if (request.force) return await this.forceDecommission(request.serverId);
      const address = this.ring.node(request.serverId)?.address;
      await this.commitSnapshot(planDecommission(this.ring, request.serverId, randomUUID()));
      this.logger.info({ serverId: request.serverId, address }, "decommission started");
      const moved = await this.decommissionRunner().run();
      this.logger.info(
        { serverId: request.serverId, ringVersion: this.ring.version, ...moved },
        "decommission completed",
      );
      return {
        ringVersion: BigInt(this.ring.version),
        movedKeys: BigInt(moved.keys),
        movedBytes: BigInt(moved.bytes),
      };
    } finally {
      this.decommissioning = false;
      this.notify();
      this.track(this.pump());
    }
  }

  private async forceDecommission(
    serverId: string,
  ): Promise<MessageInitShape<typeof DecommissionResponseSchema>> {
    const before = this.ring;
    const next = forceRemove(before, serverId);
    // Counted from the albums, not asked of the server: its data is gone, so
    // it cannot say what it held. The keys the ring before the removal placed
    // on it are the ones nobody holds now.
    const lost = await this.options.lostKeys?.(before, serverId);
    await this.commitSnapshot(next);
    this.logger.warn(
      {
        serverId,
        ringVersion: next.ring.version,
        lostKeys: lost ? lost.keys : "unknown",
        lostAlbums: lost?.albums,
        unreadableAlbums: lost?.unreadableAlbums,
      },
      "data server removed by force; its keys are lost",
    );
    return {
      ringVersion: BigInt(next.ring.version),
      lostKeysKnown: lost !== undefined,
      ...(lost && {
        lostKeys: BigInt(lost.keys),
        lostAlbums: BigInt(lost.albums),
        lostFiles: BigInt(lost.files),
        lostFileNames: lost.fileNames,
        unreadableAlbums: BigInt(lost.unreadableAlbums),
      }),
    };
  }

  private decommissionRunner(): DecommissionRunner {
    return new DecommissionRunner({
      peers: this.peers,
      clusterToken: this.options.clusterToken,
      logger: this.logger,
      signal: this.stopping.signal,
      current: () => ({ ring: this.ring, decommission: this.decommissionState }),
      commit: (next) => this.commitSnapshot(next),
    });
  }

  private async resumeDecommission(d: PersistedDecommission): Promise<void> {
    if (d.stage === "copy") {
      // Nothing switched yet: drop it; the operator asks again.
      await this.commitSnapshot(cancelBeforeSwitch({ ring: this.ring, decommission: d }));
      this.logger.info(
        { serverId: d.serverId },
        "a decommission interrupted before the switch was cancelled",
      );
      return;
    }
    this.decommissioning = true;
    this.logger.info(
      { serverId: d.serverId, stage: d.stage },
      "resuming an interrupted decommission",
    );
    this.track(
      this.decommissionRunner()
        .run()
        .then(() => undefined)
        .finally(() => {
          this.decommissioning = false;
          this.notify();
          this.track(this.pump());
        }),
    );
  }

  /** Persists the next membership snapshot, then publishes its ring if it changed. */
  private async commitSnapshot(next: MembershipSnapshot): Promise<void> {
    await this.stateLock.run("state", async () => {
      await this.stateStore.save({
        ring: next.ring,
        join: this.persistedJoin(),
        lastJoin: this.lastJoin,
        decommission: next.decommission,
      });
      this.decommissionState = next.decommission;
      if (next.ring !== this.ring) this.commit(next.ring);
      else this.notify();
    });
  }

  private saveState(state: Omit<ClusterState, "decommission">): Promise<void> {
    return this.stateStore.save({ ...state, decommission: this.decommissionState });
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

function persisted(active: PersistedJoin): PersistedJoin {
  return {
    joinId: active.joinId,
    serverId: active.serverId,
    address: active.address,
    stage: active.stage,
    nextRing: active.nextRing,
    transfers: active.transfers,
  };
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

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (reason: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(reason);
      },
    );
  });
}
