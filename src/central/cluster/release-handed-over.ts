// The last step of a join: asks every previous owner to delete the ranges it
// handed over to the new server, retrying each until it has answered (servers
// are assumed to come back) or the coordinator stops. Call it only once the
// new owner has confirmed that it holds the ranges.
import { AlbumError } from "../../common/album-error.ts";
import { backoffDelay, sleep } from "../../common/grpc/backoff.ts";
import { clusterTokenMetadata } from "../../common/grpc/cluster-token.ts";
import { DataPeerService } from "../../gen/albumshare/data/v1/data_pb.ts";
import type { RangeTransfer, TokenRange } from "../../ring/ring.ts";
import type { MembershipHost } from "./membership-host.ts";

export async function releaseHandedOver(
  host: MembershipHost,
  transfers: readonly RangeTransfer[],
  ringVersion: number,
): Promise<void> {
  const bySource = new Map<string, TokenRange[]>();
  for (const t of transfers) bySource.set(t.from, [...(bySource.get(t.from) ?? []), t.range]);
  await Promise.all(
    [...bySource].map(async ([from, ranges]) => {
      for (let attempt = 0; ; attempt++) {
        const address = host.ring().node(from)?.address;
        try {
          if (!address) return;
          const reply = await host.peers.get(address).unary(
            DataPeerService.method.release,
            { ranges, ringVersion: BigInt(ringVersion) },
            {
              metadata: clusterTokenMetadata(host.clusterToken),
              signal: host.stopping,
            },
          );
          host.logger.info(
            {
              from,
              deletedKeys: Number(reply.deletedKeys),
              deletedBytes: Number(reply.deletedBytes),
            },
            "join: previous owner released handed-over keys",
          );
          return;
        } catch (reason) {
          if (host.stopping.aborted) return;
          host.logger.warn(
            { from, error: AlbumError.from(reason).toLine() },
            "join: release failed; retrying",
          );
          await sleep(backoffDelay(attempt), host.stopping).catch(() => undefined);
        }
      }
    }),
  );
}
