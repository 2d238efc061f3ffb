// Pulls single contents from the server that held them before a join:
// during a join's copy phases (range-copier.ts) and on demand, when a client
// asks the new owner for a key that has not been handed over yet. Concurrent
// requests for one key share one transfer. Never pulls a key outside the
// ranges being handed over, and never deletes anything.

import type { Metadata } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import { clusterTokenMetadata } from "../../common/grpc/cluster-token.ts";
import type { ConnectionPool } from "../../common/grpc/connection-pool.ts";
import { DataPeerService } from "../../gen/albumshare/data/v1/data_pb.ts";
import { keyPosition, type ContentKey } from "../../ring/content-key.ts";
import { splitContentStream } from "../../common/grpc/content-stream.ts";
import { toSafeNumber } from "../ownership.ts";
import { shortKey, type ContentStore } from "../storage/content-store.ts";
import type { IncomingTransfers } from "./incoming-transfers.ts";

export type FetchOutcome = "stored" | "already_present" | "missing";

export interface PullThroughOptions {
  store: ContentStore;
  incoming: IncomingTransfers;
  peers: ConnectionPool;
  clusterToken: string;
  logger: Logger;
}

export class PullThrough {
  private readonly pending = new Map<ContentKey, Promise<FetchOutcome>>();
  private readonly metadata: Metadata;

  constructor(private readonly options: PullThroughOptions) {
    this.metadata = clusterTokenMetadata(options.clusterToken);
  }

  /**
   * Makes `key` local if it lies in a range being handed over to us and its
   * previous owner has it. Returns whether the key is now stored here.
   */
  async ensureLocal(key: ContentKey): Promise<boolean> {
    const source = this.options.incoming.sourceOf(keyPosition(key));
    if (!source) return false;
    const outcome = await this.fetch(key, source.fromAddress);
    if (outcome !== "missing") {
      this.options.logger.debug(
        { key: shortKey(key), from: source.fromServerId },
        "pulled a key on demand",
      );
    }
    return outcome !== "missing";
  }

  /** Copies `key` from the server at `address` into the local store. */
  fetch(key: ContentKey, address: string): Promise<FetchOutcome> {
    const running = this.pending.get(key);
    if (running) return running;
    const transfer = this.transfer(key, address).finally(() => this.pending.delete(key));
    this.pending.set(key, transfer);
    return transfer;
  }

  private async transfer(key: ContentKey, address: string): Promise<FetchOutcome> {
    if ((await this.options.store.stat(key)) !== undefined) return "already_present";
    const connection = this.options.peers.get(address);
    const metadata = this.metadata.clone();
    try {
      const stream = connection.serverStream(DataPeerService.method.fetch, { key }, { metadata });
      const { header, chunks } = await splitContentStream(stream, `fetch from ${address}`);
      return await this.options.store.write(key, toSafeNumber(header.size, "size"), chunks);
    } catch (reason) {
      const error = AlbumError.from(reason);
      if (error.code === ErrorCode.NotFound) return "missing";
      throw error;
    }
  }
}
