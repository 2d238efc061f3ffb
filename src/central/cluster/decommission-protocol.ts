// The Decommission RPC of the cluster coordinator: one membership change at a
// time (it waits for a join or another decommission to end), then either the
// planned hand-over (decommission.ts plans it, DecommissionRunner carries it
// out, each step committed here) or, with force, the removal of a server whose
// data is gone, reporting what the albums lose. A decommission interrupted by
// a restart is resumed from its persisted stage, or cancelled if nothing had
// switched yet. It never moves file contents itself.
import { randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { invalidArgument } from "../../common/album-error.ts";
import { isServerId } from "../../data/server-identity.ts";
import type {
  DecommissionRequest,
  DecommissionResponseSchema,
} from "../../gen/albumshare/cluster/v1/cluster_pb.ts";
import type { Ring } from "../../ring/ring.ts";
import {
  cancelBeforeSwitch,
  forceRemove,
  planDecommission,
  type MembershipSnapshot,
  type PersistedDecommission,
} from "./decommission.ts";
import { DecommissionRunner } from "./decommission-runner.ts";
import { raceAbort } from "./deferred.ts";
import type { MembershipHost } from "./membership-host.ts";
import type { LostKeysCounter } from "./stored-lost-keys.ts";

/** What a decommission needs of the coordinator that hosts it. */
export interface DecommissionHost extends MembershipHost {
  readonly lostKeys: LostKeysCounter | undefined;
  /** Persists `ring` and `decommission`, with the join fields as they stand. */
  save(ring: Ring, decommission: PersistedDecommission | null): Promise<void>;
  /** True while a join is in progress. */
  joining(): boolean;
  /** Lets the next queued join start (after a decommission ended). */
  startJoins(): Promise<void>;
}

export class DecommissionProtocol {
  readonly #host: DecommissionHost;
  /** The decommission in progress, as persisted. */
  #state: PersistedDecommission | null = null;
  /** True while a decommission holds the membership (no join starts meanwhile). */
  #running = false;

  constructor(host: DecommissionHost) {
    this.#host = host;
  }

  get running(): boolean {
    return this.#running;
  }

  /** The decommission in progress as it is persisted. */
  get persisted(): PersistedDecommission | null {
    return this.#state;
  }

  async decommission(
    request: DecommissionRequest,
    signal: AbortSignal,
  ): Promise<MessageInitShape<typeof DecommissionResponseSchema>> {
    const host = this.#host;
    if (!isServerId(request.serverId))
      throw invalidArgument(`'${request.serverId.slice(0, 40)}' is not a data server id`);
    // One membership change at a time: wait for the join or decommission running.
    while (host.joining() || this.#running) await raceAbort(host.changed(), signal);
    this.#running = true;
    try {
      if (request.force) return await this.#force(request.serverId);
      const address = host.ring().node(request.serverId)?.address;
      await this.#commit(planDecommission(host.ring(), request.serverId, randomUUID()));
      host.logger.info({ serverId: request.serverId, address }, "decommission started");
      const moved = await this.#runner().run();
      host.logger.info(
        { serverId: request.serverId, ringVersion: host.ring().version, ...moved },
        "decommission completed",
      );
      return {
        ringVersion: BigInt(host.ring().version),
        movedKeys: BigInt(moved.keys),
        movedBytes: BigInt(moved.bytes),
      };
    } finally {
      this.#running = false;
      host.notify();
      host.track(host.startJoins());
    }
  }

  async #force(serverId: string): Promise<MessageInitShape<typeof DecommissionResponseSchema>> {
    const host = this.#host;
    const before = host.ring();
    const next = forceRemove(before, serverId);
    // Counted from the albums, not asked of the server: its data is gone, so
    // it cannot say what it held. The keys the ring before the removal placed
    // on it are the ones nobody holds now.
    const lost = await host.lostKeys?.(before, serverId);
    await this.#commit(next);
    host.logger.warn(
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

  #runner(): DecommissionRunner {
    const host = this.#host;
    return new DecommissionRunner({
      peers: host.peers,
      clusterToken: host.clusterToken,
      logger: host.logger,
      signal: host.stopping,
      current: () => ({ ring: host.ring(), decommission: this.#state }),
      commit: (next) => this.#commit(next),
    });
  }

  /** At start: takes up the decommission the last run persisted, if any. */
  async resume(d: PersistedDecommission | null): Promise<void> {
    const host = this.#host;
    this.#state = d;
    if (!d) return;
    if (d.stage === "copy") {
      // Nothing switched yet: drop it; the operator asks again.
      await this.#commit(cancelBeforeSwitch({ ring: host.ring(), decommission: d }));
      host.logger.info(
        { serverId: d.serverId },
        "a decommission interrupted before the switch was cancelled",
      );
      return;
    }
    this.#running = true;
    host.logger.info(
      { serverId: d.serverId, stage: d.stage },
      "resuming an interrupted decommission",
    );
    host.track(
      this.#runner()
        .run()
        .then(() => undefined)
        .finally(() => {
          this.#running = false;
          host.notify();
          host.track(host.startJoins());
        }),
    );
  }

  /** Persists the next membership snapshot, then publishes its ring if it changed. */
  async #commit(next: MembershipSnapshot): Promise<void> {
    const host = this.#host;
    await host.locked(async () => {
      await host.save(next.ring, next.decommission);
      this.#state = next.decommission;
      if (next.ring !== host.ring()) host.commit(next.ring);
      else host.notify();
    });
  }
}
