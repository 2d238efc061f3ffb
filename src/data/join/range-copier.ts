// Copies the keys of the ranges a joining server takes over from each of
// their previous holders: list the keys (DataPeerService.ListKeys), then pull
// each one not yet here (Fetch), a few at a time. A holder that fails is
// retried from a fresh listing (already copied keys are skipped), until the
// copy succeeds or the server stops. Never deletes anything.

import { AlbumError } from "../../common/album-error.ts";
import { backoffDelay, sleep } from "../../common/grpc/backoff.ts";
import { clusterTokenMetadata } from "../../common/grpc/cluster-token.ts";
import type { ConnectionPool } from "../../common/grpc/connection-pool.ts";
import { DataPeerService } from "../../gen/albumshare/data/v1/data_pb.ts";
import type { ServerId, TokenRange } from "../../ring/ring.ts";
import type { Logger } from "pino";
import type { ContentStore } from "../storage/content-store.ts";
import type { PullThrough } from "./pull-through.ts";

/** Keys pulled at once from one holder. */
const FETCH_CONCURRENCY = 4;

export interface CopySource {
  fromServerId: ServerId;
  fromAddress: string;
  ranges: TokenRange[];
}

export interface CopyTotals {
  keys: number;
  bytes: number;
  /** Keys listed by the holders (already here or copied now). */
  listed: number;
}

export interface RangeCopierOptions {
  store: ContentStore;
  pullThrough: PullThrough;
  peers: ConnectionPool;
  clusterToken: string;
  logger: Logger;
}

export class RangeCopier {
  constructor(private readonly options: RangeCopierOptions) {}

  /**
   * Copies every source's ranges. `ringVersion` 0 lists what the holders have
   * now; a version asks them to wait for it and for older uploads first.
   */
  async copy(
    sources: Iterable<CopySource>,
    ringVersion: number,
    signal: AbortSignal,
  ): Promise<CopyTotals> {
    const results = await Promise.all(
      [...sources].map((s) => this.copyFromPersistently(s, ringVersion, signal)),
    );
    return results.reduce(
      (a, b) => ({ keys: a.keys + b.keys, bytes: a.bytes + b.bytes, listed: a.listed + b.listed }),
      {
        keys: 0,
        bytes: 0,
        listed: 0,
      },
    );
  }

  private async copyFromPersistently(
    source: CopySource,
    ringVersion: number,
    signal: AbortSignal,
  ): Promise<CopyTotals> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.copyFrom(source, ringVersion, signal);
      } catch (reason) {
        if (signal.aborted) throw signal.reason;
        this.options.logger.warn(
          { from: source.fromServerId, error: AlbumError.from(reason).toLine() },
          "copying keys from their previous holder failed; retrying",
        );
        await sleep(backoffDelay(attempt), signal);
      }
    }
  }

  private async copyFrom(
    source: CopySource,
    ringVersion: number,
    signal: AbortSignal,
  ): Promise<CopyTotals> {
    const totals: CopyTotals = { keys: 0, bytes: 0, listed: 0 };
    const listing = this.options.peers
      .get(source.fromAddress)
      .serverStream(
        DataPeerService.method.listKeys,
        { ranges: source.ranges, ringVersion: BigInt(ringVersion) },
        { metadata: clusterTokenMetadata(this.options.clusterToken), signal },
      );
    const running = new Set<Promise<void>>();
    let failure: unknown;
    for await (const item of listing) {
      totals.listed++;
      if (failure !== undefined) break;
      if ((await this.options.store.stat(item.key)) !== undefined) continue;
      const task = this.options.pullThrough.fetch(item.key, source.fromAddress).then(
        (outcome) => {
          if (outcome === "stored") {
            totals.keys++;
            totals.bytes += Number(item.size);
          }
        },
        (reason: unknown) => {
          failure ??= reason;
        },
      );
      const tracked = task.finally(() => running.delete(tracked));
      running.add(tracked);
      if (running.size >= FETCH_CONCURRENCY) await Promise.race(running);
    }
    await Promise.all(running);
    if (failure !== undefined) throw failure;
    return totals;
  }
}
