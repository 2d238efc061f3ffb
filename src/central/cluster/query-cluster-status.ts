// Asks every data server of a ring for its usage (keys, bytes, adopted ring
// version) through the token-protected Usage RPC, for `albumshare status` and
// the coordinator. A server that does not answer is reported, never thrown:
// one dead server must not hide the others. It never changes any server.

import { AlbumError } from "../../common/album-error.ts";
import { withTimeout, type GrpcConnection } from "../../common/grpc/client-calls.ts";
import { clusterTokenMetadata } from "../../common/grpc/cluster-token.ts";
import { DataPeerService } from "../../gen/albumshare/data/v1/data_pb.ts";
import type { Ring } from "../../ring/ring.ts";
import type { ClusterServerStatus } from "./cluster-status.ts";

/** Reaches a data server by address (a ConnectionPool fits). */
export interface PeerConnections {
  get(address: string): GrpcConnection;
}

const DEFAULT_TIMEOUT_MS = 3_000;

/** Each server of `ring` with its share of the key space and what it reports. */
export function queryServerStatuses(
  ring: Ring,
  clusterToken: string,
  peers: PeerConnections,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<ClusterServerStatus[]> {
  const metadata = clusterTokenMetadata(clusterToken);
  return Promise.all(
    ring.nodes.map(async (node): Promise<ClusterServerStatus> => {
      const base = {
        serverId: node.serverId,
        address: node.address,
        share: ring.share(node.serverId),
      };
      try {
        const usage = await withTimeout(
          peers
            .get(node.address)
            .unary(
              DataPeerService.method.usage,
              {},
              { metadata, deadline: new Date(Date.now() + timeoutMs) },
            ),
          timeoutMs,
          `data server ${node.address}`,
        );
        return {
          ...base,
          reachable: true,
          keys: Number(usage.keys),
          bytes: Number(usage.bytes),
          ringVersion: Number(usage.ringVersion),
        };
      } catch (reason) {
        return {
          ...base,
          reachable: false,
          keys: null,
          bytes: null,
          ringVersion: null,
          error: AlbumError.from(reason).message,
        };
      }
    }),
  );
}
