// Carries out a decommission planned by decommission.ts: asks each new owner
// to take over its arcs from the leaving server (DataPeerService.TakeOver),
// commits the switch, asks again for what arrived meanwhile, then asks the
// leaving server to release its copies. Each step is committed through the
// coordinator before the next one starts, so a restarted coordinator resumes
// from the persisted stage. Never deletes a key before its new owner holds it.

import type { Logger } from "pino";
import { AlbumError, failedPrecondition } from "../../common/album-error.ts";
import { backoffDelay, sleep } from "../../common/grpc/backoff.ts";
import { clusterTokenMetadata } from "../../common/grpc/cluster-token.ts";
import type { ConnectionPool } from "../../common/grpc/connection-pool.ts";
import { DataPeerService } from "../../gen/albumshare/data/v1/data_pb.ts";
import {
  caughtUp,
  rangesByTarget,
  released,
  switchRing,
  type MembershipSnapshot,
  type PersistedDecommission,
} from "./decommission.ts";

/** Attempts to reach a leaving server that no longer answers before its copies are left behind. */
const RELEASE_ATTEMPTS = 6;

export interface DecommissionRunnerOptions {
  peers: ConnectionPool;
  clusterToken: string;
  logger: Logger;
  signal: AbortSignal;
  /** The coordinator's current snapshot. */
  current(): MembershipSnapshot;
  /** Persists and publishes the next snapshot (ClusterCoordinator.commitSnapshot). */
  commit(next: MembershipSnapshot): Promise<void>;
}

export interface MovedTotals {
  keys: number;
  bytes: number;
}

export class DecommissionRunner {
  constructor(private readonly options: DecommissionRunnerOptions) {}

  /** Runs the decommission from its persisted stage to the end. */
  async run(): Promise<MovedTotals> {
    const moved: MovedTotals = { keys: 0, bytes: 0 };
    let d = this.decommission();
    if (d.stage === "copy") {
      this.add(moved, await this.takeOver(d, 0));
      await this.options.commit(switchRing(this.options.current()));
      d = this.decommission();
      this.options.logger.info(
        { serverId: d.serverId, ringVersion: d.nextRing.version },
        "decommission: ring switched",
      );
    }
    if (d.stage === "finish") {
      this.add(moved, await this.takeOver(d, d.nextRing.version));
      await this.options.commit(caughtUp(this.options.current()));
      d = this.decommission();
    }
    await this.release(d);
    await this.options.commit(released(this.options.current()));
    return moved;
  }

  private decommission(): PersistedDecommission {
    const d = this.options.current().decommission;
    if (!d) throw failedPrecondition("no decommission is in progress");
    return d;
  }

  private add(total: MovedTotals, more: MovedTotals): void {
    total.keys += more.keys;
    total.bytes += more.bytes;
  }

  // Every new owner copies its arcs, all at once; each retried until it succeeds.
  private async takeOver(d: PersistedDecommission, ringVersion: number): Promise<MovedTotals> {
    const results = await Promise.all(
      [...rangesByTarget(d)].map(async ([to, ranges]) => {
        for (let attempt = 0; ; attempt++) {
          const address = d.nextRing.node(to)?.address;
          try {
            if (!address) return { keys: 0, bytes: 0 };
            const reply = await this.options.peers.get(address).unary(
              DataPeerService.method.takeOver,
              {
                ranges,
                fromServerId: d.serverId,
                fromAddress: d.address,
                ringVersion: BigInt(ringVersion),
              },
              {
                metadata: clusterTokenMetadata(this.options.clusterToken),
                signal: this.options.signal,
              },
            );
            return { keys: Number(reply.copiedKeys), bytes: Number(reply.copiedBytes) };
          } catch (reason) {
            if (this.options.signal.aborted) throw this.options.signal.reason;
            this.options.logger.warn(
              { to, error: AlbumError.from(reason).toLine() },
              "decommission: taking over keys failed; retrying",
            );
            await sleep(backoffDelay(attempt), this.options.signal);
          }
        }
      }),
    );
    return results.reduce((a, b) => ({ keys: a.keys + b.keys, bytes: a.bytes + b.bytes }), {
      keys: 0,
      bytes: 0,
    });
  }

  // The leaving server deletes what it no longer owns (all of it). If it is
  // gone for good its copies stay on its disk: harmless, it is out of the ring.
  private async release(d: PersistedDecommission): Promise<void> {
    const ranges = d.transfers.map((t) => t.range);
    for (let attempt = 0; attempt < RELEASE_ATTEMPTS; attempt++) {
      try {
        const reply = await this.options.peers.get(d.address).unary(
          DataPeerService.method.release,
          { ranges, ringVersion: BigInt(d.nextRing.version) },
          {
            metadata: clusterTokenMetadata(this.options.clusterToken),
            signal: this.options.signal,
          },
        );
        this.options.logger.info(
          { serverId: d.serverId, deletedKeys: Number(reply.deletedKeys) },
          "decommission: the server left released its copies",
        );
        return;
      } catch (reason) {
        if (this.options.signal.aborted) throw this.options.signal.reason;
        this.options.logger.warn(
          { serverId: d.serverId, error: AlbumError.from(reason).toLine() },
          "decommission: the server leaving did not release its copies; retrying",
        );
        await sleep(backoffDelay(attempt), this.options.signal);
      }
    }
    this.options.logger.warn(
      { serverId: d.serverId },
      "decommission: the server left never answered; its copies stay on its disk (it is out of the ring)",
    );
  }
}
