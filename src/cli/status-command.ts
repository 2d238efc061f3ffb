// `albumshare status`: the operator's view of the data-server cluster. Takes
// the ring from the central server's cluster port (ClusterService GetRing,
// with the cluster token), asks each data server for its usage, and prints a
// table or one JSON object. Read-only: it never changes the ring or a server.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { invalidArgument } from "../common/album-error.ts";
import { GrpcConnection } from "../common/grpc/client-calls.ts";
import { clusterTokenMetadata } from "../common/grpc/cluster-token.ts";
import { ConnectionPool } from "../common/grpc/connection-pool.ts";
import { formatClusterStatus, type ClusterStatus } from "../central/cluster/cluster-status.ts";
import { queryServerStatuses } from "../central/cluster/query-cluster-status.ts";
import { ClusterService } from "../gen/albumshare/cluster/v1/cluster_pb.ts";
import { Ring } from "../ring/ring.ts";

export interface StatusCommandOptions {
  /** The central server's cluster address, host:port. */
  central: string;
  clusterToken?: string;
  json: boolean;
  output: Writable;
}

const GET_RING_TIMEOUT_MS = 5_000;

/** The cluster token `up` keeps in its folder, if there is one there. */
export function readKeptClusterToken(dir: string): string | undefined {
  try {
    const token = readFileSync(join(dir, "cluster-token"), "utf8").trim();
    return token.length > 0 ? token : undefined;
  } catch {
    return undefined;
  }
}

export async function runStatusCommand(options: StatusCommandOptions): Promise<void> {
  const token = options.clusterToken;
  if (!token) {
    throw invalidArgument(
      "the cluster token is required (--cluster-token, ALBUMSHARE_CLUSTER_TOKEN, " +
        "or --dir <folder of `up`> holding cluster-token)",
    );
  }
  const central = new GrpcConnection(
    options.central,
    `central server (cluster) ${options.central}`,
  );
  const peers = new ConnectionPool((a) => `data server ${a}`);
  try {
    const reply = await central.unary(
      ClusterService.method.getRing,
      {},
      {
        metadata: clusterTokenMetadata(token),
        deadline: new Date(Date.now() + GET_RING_TIMEOUT_MS),
      },
    );
    const ring = reply.ring ? Ring.fromProto(reply.ring) : Ring.empty();
    const servers = await queryServerStatuses(ring, token, peers);
    // GetRing carries no join state; the coordinator's own view has it.
    const status: ClusterStatus = {
      ringVersion: ring.version,
      servers,
      join: null,
      waiting: [],
      lastJoin: null,
    };
    options.output.write(
      options.json
        ? `${JSON.stringify({ ringVersion: status.ringVersion, servers })}\n`
        : `${formatClusterStatus(status)}\n`,
    );
  } finally {
    peers.close();
    central.close();
  }
}
