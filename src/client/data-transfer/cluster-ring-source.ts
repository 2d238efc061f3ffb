// A RingSource that asks the cluster coordinator directly (ClusterService
// GetRing, with the cluster token). For tests, benchmarks and operator tools;
// ordinary clients get the ring from their central-server connection.

import { GrpcConnection } from "../../common/grpc/client-calls.ts";
import { clusterTokenMetadata } from "../../common/grpc/cluster-token.ts";
import { ClusterService } from "../../gen/albumshare/cluster/v1/cluster_pb.ts";
import { Ring } from "../../ring/ring.ts";
import type { RingSource } from "./ring-source.ts";

export class ClusterRingSource implements RingSource {
  private ring: Ring = Ring.empty();
  private readonly connection: GrpcConnection;

  constructor(
    coordinatorAddress: string,
    private readonly clusterToken: string,
  ) {
    this.connection = new GrpcConnection(
      coordinatorAddress,
      `central server (cluster) ${coordinatorAddress}`,
    );
  }

  current(): Ring {
    return this.ring;
  }

  async refresh(): Promise<Ring> {
    const reply = await this.connection.unary(
      ClusterService.method.getRing,
      {},
      {
        metadata: clusterTokenMetadata(this.clusterToken),
        deadline: new Date(Date.now() + 10_000),
      },
    );
    if (reply.ring) {
      const ring = Ring.fromProto(reply.ring);
      if (ring.version >= this.ring.version) this.ring = ring;
    }
    return this.ring;
  }

  close(): void {
    this.connection.close();
  }
}
