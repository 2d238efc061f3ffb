// Runs the join protocol of the cluster: data servers that ask to join wait in
// a queue; at most one join is active; it goes copy -> finish (the ring has
// switched) -> release (previous owners drop what they handed over), and each
// stage is persisted through the host before it is acted on, so a restarted
// coordinator resumes it. A join whose server goes away before the switch is
// cancelled, which loses nothing. It never asks an owner to release keys
// before the new owner has confirmed that it holds them, and never starts a
// join while a decommission holds the membership.
import { randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { failedPrecondition } from "../../common/album-error.ts";
import { sleep } from "../../common/grpc/backoff.ts";
import {
  JoinPhase,
  type JoinPlanSchema,
  type JoinResponseSchema,
} from "../../gen/albumshare/cluster/v1/cluster_pb.ts";
import type {
  ClusterState,
  CompletedJoin,
  JoinStage,
  PersistedJoin,
} from "./cluster-state-store.ts";
import { deferred, raceAbort } from "./deferred.ts";
import type { MembershipHost } from "./membership-host.ts";
import { releaseHandedOver } from "./release-handed-over.ts";

/** What the join protocol needs of the coordinator that hosts it. */
export interface JoinHost extends MembershipHost {
  /** Persists ring and join fields, with the decommission as it stands. */
  save(state: Omit<ClusterState, "decommission">): Promise<void>;
  /** True while a decommission holds the membership. */
  decommissioning(): boolean;
}

export interface ActiveJoin extends PersistedJoin {
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

export class JoinRunner {
  readonly #host: JoinHost;
  #active: ActiveJoin | null = null;
  #lastJoin: CompletedJoin | null = null;
  #queue: JoinTicket[] = [];

  constructor(host: JoinHost) {
    this.#host = host;
  }

  /** The join in progress, if any. */
  get active(): { serverId: string; stage: JoinStage } | null {
    return this.#active;
  }

  get lastJoin(): CompletedJoin | null {
    return this.#lastJoin;
  }

  /** Servers waiting for their turn, first first. */
  waiting(): string[] {
    return this.#queue.map((t) => t.serverId);
  }

  /** The join in progress as it is persisted. */
  persisted(): PersistedJoin | null {
    return this.#active && persisted(this.#active);
  }

  /**
   * The Join stream of a validated server: queued until its turn, then the
   * plan, then done once the join has ended.
   */
  async *join(
    serverId: string,
    address: string,
    signal: AbortSignal,
  ): AsyncGenerator<MessageInitShape<typeof JoinResponseSchema>> {
    const host = this.#host;
    if (this.#active?.serverId === serverId) {
      yield* this.#follow(this.#active, signal);
      return;
    }
    if (host.ring().node(serverId)) {
      yield { event: { case: "done", value: { ringVersion: BigInt(host.ring().version) } } };
      return;
    }
    const ticket = this.#ticketFor(serverId, address);
    ticket.waiters++;
    try {
      let lastAnnounced = "";
      while (this.#active?.serverId !== serverId) {
        if (host.ring().node(serverId)) break;
        // Announced once per join it waits for (none when it is next anyway).
        const waitingFor = this.#active?.serverId;
        if (waitingFor !== undefined && waitingFor !== lastAnnounced) {
          lastAnnounced = waitingFor;
          const ahead = this.#queue.indexOf(ticket) + 1;
          host.logger.info(
            { serverId, waitingFor, ahead },
            "a data server waits to join until the current join completes",
          );
          yield { event: { case: "queued", value: { waitingFor, ahead } } };
        }
        await raceAbort(Promise.race([ticket.turn, host.changed()]), signal);
      }
    } finally {
      ticket.waiters--;
      // A joiner that gave up while queued leaves the queue.
      if (ticket.waiters === 0 && this.#queue.includes(ticket))
        this.#queue = this.#queue.filter((t) => t !== ticket);
    }
    if (this.#active?.serverId === serverId) yield* this.#follow(this.#active, signal);
    else yield { event: { case: "done", value: { ringVersion: BigInt(host.ring().version) } } };
  }

  async *#follow(
    active: ActiveJoin,
    signal: AbortSignal,
  ): AsyncGenerator<MessageInitShape<typeof JoinResponseSchema>> {
    const host = this.#host;
    active.attached++;
    try {
      yield { event: { case: "plan", value: this.#planOf(active) } };
      await raceAbort(active.finished, signal);
      yield { event: { case: "done", value: { ringVersion: BigInt(host.ring().version) } } };
    } finally {
      active.attached--;
      if (active.attached === 0 && active.stage === "copy" && this.#active === active) {
        // Nothing was switched yet: cancelling loses nothing, and frees the
        // cluster for the next joiner. The server starts over if it returns.
        await host.locked(async () => {
          if (this.#active !== active || active.stage !== "copy" || active.attached > 0) return;
          await host.save({ ring: host.ring(), join: null, lastJoin: this.#lastJoin });
          this.end(active, "the joining server went away before the ring switched");
        });
      }
    }
  }

  /** JoinCopied: the new server holds its ranges; the ring switches. */
  async copied(joinId: string, serverId: string): Promise<number> {
    const host = this.#host;
    let ringVersion = 0;
    await host.locked(async () => {
      const active = this.#activeJoin(joinId, serverId);
      if (active.stage === "copy") {
        const next = active.nextRing;
        await host.save({
          ring: next,
          join: { ...persisted(active), stage: "finish" },
          lastJoin: this.#lastJoin,
        });
        active.stage = "finish";
        host.logger.info(
          { serverId: active.serverId, ringVersion: next.version },
          "join: ring switched",
        );
        host.commit(next);
      }
      ringVersion = host.ring().version;
    });
    return ringVersion;
  }

  /**
   * JoinCompleted: the new server has caught up; the previous owners are
   * asked to release. Resolves once the join has ended.
   */
  async completed(
    request: { joinId: string; serverId: string; movedKeys: number; movedBytes: number },
    signal: AbortSignal,
  ): Promise<number> {
    const host = this.#host;
    if (!this.#active && this.#lastJoin?.joinId === request.joinId) return host.ring().version;
    let active!: ActiveJoin;
    await host.locked(async () => {
      const found = this.#activeJoin(request.joinId, request.serverId);
      if (found.stage === "copy")
        throw failedPrecondition("the join cannot complete before the ring has switched");
      if (found.stage === "finish") {
        await host.save({
          ring: host.ring(),
          join: { ...persisted(found), stage: "release" },
          lastJoin: this.#lastJoin,
        });
        found.stage = "release";
        host.track(this.#releaseAndFinish(found, request.movedKeys, request.movedBytes));
      }
      active = found;
    });
    await raceAbort(active.finished, signal);
    return host.ring().version;
  }

  /** The join in progress if it is still copying (nothing switched yet). */
  copying(): ActiveJoin | null {
    return this.#active?.stage === "copy" ? this.#active : null;
  }

  #ticketFor(serverId: string, address: string): JoinTicket {
    const existing = this.#queue.find((t) => t.serverId === serverId);
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
    this.#queue.push(ticket);
    this.#host.track(this.startNext());
    return ticket;
  }

  /** Starts the next queued join when none is running and no decommission holds the membership. */
  async startNext(): Promise<void> {
    const host = this.#host;
    await host.locked(async () => {
      while (!this.#active && !host.decommissioning() && this.#queue.length > 0) {
        const ticket = this.#queue.shift()!;
        const ring = host.ring();
        if (ring.node(ticket.serverId)) {
          ticket.start();
          continue;
        }
        const nextRing = ring.withServer(ticket.serverId, ticket.address);
        const transfers = ring.transfersTo(nextRing);
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
        await host.save({ ring, join: persisted(active), lastJoin: this.#lastJoin });
        this.#active = active;
        host.logger.info(
          {
            serverId: active.serverId,
            address: active.address,
            nextVersion: nextRing.version,
            ranges: transfers.length,
          },
          "join started",
        );
        ticket.start();
        host.track(this.#cancelIfAbandoned(active));
      }
    });
    host.notify();
  }

  // A join whose server went away between being dequeued and receiving its
  // plan would hold the cluster forever; it is cancelled (nothing switched).
  async #cancelIfAbandoned(active: ActiveJoin): Promise<void> {
    const host = this.#host;
    await sleep(ABANDONED_JOIN_MS, host.stopping).catch(() => undefined);
    await host.locked(async () => {
      if (
        host.stopping.aborted ||
        this.#active !== active ||
        active.stage !== "copy" ||
        active.attached > 0
      )
        return;
      await host.save({ ring: host.ring(), join: null, lastJoin: this.#lastJoin });
      this.end(active, "the joining server never took its plan");
    });
  }

  #planOf(active: ActiveJoin): MessageInitShape<typeof JoinPlanSchema> {
    const ring = this.#host.ring();
    return {
      joinId: active.joinId,
      phase: active.stage === "copy" ? JoinPhase.COPY : JoinPhase.FINISH,
      nextRing: active.nextRing.toProto(),
      transfers: active.transfers.map((t) => ({
        range: { start: t.range.start, end: t.range.end },
        fromServerId: t.from,
        fromAddress: ring.node(t.from)?.address ?? active.nextRing.node(t.from)?.address ?? "",
      })),
    };
  }

  #activeJoin(joinId: string, serverId: string): ActiveJoin {
    const active = this.#active;
    if (!active || active.joinId !== joinId || active.serverId !== serverId) {
      throw failedPrecondition(`no join ${joinId} of ${serverId} is in progress`);
    }
    return active;
  }

  // Has every previous owner delete what it handed over, then ends the join.
  async #releaseAndFinish(
    active: ActiveJoin,
    movedKeys: number,
    movedBytes: number,
  ): Promise<void> {
    const host = this.#host;
    const version = active.nextRing.version;
    await releaseHandedOver(host, active.transfers, version);
    if (host.stopping.aborted) return;
    await host.locked(async () => {
      const lastJoin: CompletedJoin = {
        joinId: active.joinId,
        serverId: active.serverId,
        ringVersion: version,
        movedKeys,
        movedBytes,
        completedAt: new Date().toISOString(),
      };
      await host.save({ ring: host.ring(), join: null, lastJoin });
      this.#lastJoin = lastJoin;
      host.logger.info(
        { serverId: active.serverId, ringVersion: version, movedKeys, movedBytes },
        "join completed",
      );
      this.end(active);
    });
    host.track(this.startNext());
  }

  /** Clears the join in memory (its persisted state is already cleared). */
  end(active: ActiveJoin, cancelledBecause?: string): void {
    if (this.#active !== active) return;
    const host = this.#host;
    this.#active = null;
    if (cancelledBecause) {
      host.logger.warn(
        { serverId: active.serverId, reason: cancelledBecause },
        "join cancelled before the ring switched",
      );
    }
    active.finish();
    host.notify();
    host.track(this.startNext());
  }

  /** At start: the last run's completed join, and takes up the join it persisted, if any. */
  async resume(lastJoin: CompletedJoin | null, join: PersistedJoin | null): Promise<void> {
    const host = this.#host;
    this.#lastJoin = lastJoin;
    if (!join) return;
    if (join.stage === "copy") {
      // Nothing switched yet: drop it; the server starts again on reconnect.
      await host.save({ ring: host.ring(), join: null, lastJoin: this.#lastJoin });
      host.logger.info(
        { serverId: join.serverId },
        "a join interrupted before the ring switched was cancelled",
      );
      return;
    }
    const gate = deferred();
    this.#active = { ...join, attached: 0, finished: gate.promise, finish: gate.resolve };
    host.logger.info(
      { serverId: join.serverId, stage: join.stage },
      "resuming an interrupted join",
    );
    if (join.stage === "release") host.track(this.#releaseAndFinish(this.#active, 0, 0));
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
