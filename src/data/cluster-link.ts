// A data server's link to the cluster coordinator (hosted by the central
// server): register, watch the ring (reconnecting until stopped), and the
// join calls. Every call carries the cluster token. No decisions here: the
// join runner and the data server decide what to do with the answers.

import type { MessageShape } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { GrpcConnection } from "../common/grpc/client-calls.ts";
import { clusterTokenMetadata } from "../common/grpc/cluster-token.ts";
import {
  ClusterService,
  type JoinResponseSchema,
} from "../gen/albumshare/cluster/v1/cluster_pb.ts";
import { Ring } from "../ring/ring.ts";
import { backoffDelay, sleep } from "../common/grpc/backoff.ts";

export type JoinEvent = MessageShape<typeof JoinResponseSchema>["event"];

export interface ClusterLinkOptions {
  /** host:port of the coordinator. */
  address: string;
  clusterToken: string;
  serverId: string;
  logger: Logger;
}

export class ClusterLink {
  private readonly connection: GrpcConnection;

  constructor(private readonly options: ClusterLinkOptions) {
    this.connection = new GrpcConnection(
      options.address,
      `central server (cluster) ${options.address}`,
    );
  }

  private get metadata() {
    return clusterTokenMetadata(this.options.clusterToken);
  }

  async register(address: string): Promise<{ ring: Ring; member: boolean }> {
    const reply = await this.connection.unary(
      ClusterService.method.register,
      { serverId: this.options.serverId, address },
      { metadata: this.metadata, deadline: new Date(Date.now() + 10_000) },
    );
    return { ring: reply.ring ? Ring.fromProto(reply.ring) : Ring.empty(), member: reply.member };
  }

  /** Retries `register` until it succeeds or `signal` aborts. */
  async registerPersistently(
    address: string,
    signal: AbortSignal,
  ): Promise<{ ring: Ring; member: boolean }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.register(address);
      } catch (reason) {
        if (signal.aborted) throw signal.reason;
        const error = AlbumError.from(reason);
        // A refusal (e.g. an address held by another member) will not change by retrying.
        if (error.code === ErrorCode.FailedPrecondition) throw error;
        if (attempt === 0 || attempt % 10 === 0) {
          this.options.logger.warn(
            { error: error.toLine() },
            "cannot register with the central server yet; retrying",
          );
        }
        await sleep(backoffDelay(attempt), signal);
      }
    }
  }

  /** Feeds every ring version to `onRing` until `signal` aborts, reconnecting as needed. */
  async watch(onRing: (ring: Ring) => void, signal: AbortSignal): Promise<void> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        const stream = this.connection.serverStream(
          ClusterService.method.watchRing,
          { serverId: this.options.serverId },
          { metadata: this.metadata, signal },
        );
        for await (const message of stream) {
          attempt = 0;
          if (message.ring) onRing(Ring.fromProto(message.ring));
        }
      } catch (reason) {
        if (signal.aborted) return;
        this.options.logger.warn(
          { error: AlbumError.from(reason).toLine() },
          "ring watch interrupted; reconnecting",
        );
      }
      await sleep(backoffDelay(attempt), signal).catch(() => undefined);
    }
  }

  join(
    address: string,
    signal: AbortSignal,
  ): AsyncIterable<MessageShape<typeof JoinResponseSchema>> {
    return this.connection.serverStream(
      ClusterService.method.join,
      { serverId: this.options.serverId, address },
      { metadata: this.metadata, signal },
    );
  }

  async joinCopied(joinId: string): Promise<number> {
    const reply = await this.connection.unary(
      ClusterService.method.joinCopied,
      { serverId: this.options.serverId, joinId },
      { metadata: this.metadata },
    );
    return Number(reply.ringVersion);
  }

  async joinCompleted(joinId: string, movedKeys: number, movedBytes: number): Promise<number> {
    const reply = await this.connection.unary(
      ClusterService.method.joinCompleted,
      {
        serverId: this.options.serverId,
        joinId,
        movedKeys: BigInt(movedKeys),
        movedBytes: BigInt(movedBytes),
      },
      { metadata: this.metadata },
    );
    return Number(reply.ringVersion);
  }

  close(): void {
    this.connection.close();
  }
}
