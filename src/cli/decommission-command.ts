// `albumshare decommission <server>`: the operator removes a data server from
// the cluster. The server is named by its id (ds-…) or its address; the
// central server's coordinator moves its keys to the servers that own them in
// the next ring (the join in reverse) and answers when it is done; this
// prints one line. `--force` is for a server whose data is gone: the ring
// switches at once and its keys are reported lost. Never moves data itself.

import type { Writable } from "node:stream";
import { invalidArgument, notFound } from "../common/album-error.ts";
import { GrpcConnection } from "../common/grpc/client-calls.ts";
import { clusterTokenMetadata } from "../common/grpc/cluster-token.ts";
import { formatHostPort, parseHostPort } from "../common/host-port.ts";
import { ClusterService } from "../gen/albumshare/cluster/v1/cluster_pb.ts";
import { Ring } from "../ring/ring.ts";

export interface DecommissionCommandOptions {
  /** The central server's cluster address, host:port. */
  central: string;
  /** A server id (ds-…) or the address a member serves on. */
  server: string;
  force: boolean;
  clusterToken?: string;
  output: Writable;
}

const GET_RING_TIMEOUT_MS = 5_000;

export async function runDecommissionCommand(options: DecommissionCommandOptions): Promise<void> {
  const token = options.clusterToken;
  if (!token) {
    throw invalidArgument(
      "the cluster token is required (ALBUMSHARE_CLUSTER_TOKEN or --cluster-token)",
    );
  }
  const central = new GrpcConnection(
    options.central,
    `central server (cluster) ${options.central}`,
  );
  try {
    const metadata = clusterTokenMetadata(token);
    const reply = await central.unary(
      ClusterService.method.getRing,
      {},
      { metadata, deadline: new Date(Date.now() + GET_RING_TIMEOUT_MS) },
    );
    const ring = reply.ring ? Ring.fromProto(reply.ring) : Ring.empty();
    const serverId = resolveServer(ring, options.server);
    // No deadline: moving a server's keys takes as long as it takes.
    const done = await central.unary(
      ClusterService.method.decommission,
      { serverId, force: options.force },
      { metadata: clusterTokenMetadata(token) },
    );
    const version = Number(done.ringVersion);
    options.output.write(
      options.force
        ? `removed ${serverId} without its data: ${done.lostKeysKnown ? `${done.lostKeys} keys lost` : "its keys are lost (it did not answer, so how many is unknown)"}; ring version ${version}\n`
        : `decommissioned ${serverId}: ${done.movedKeys} keys (${done.movedBytes} bytes) moved to their new owners; ring version ${version}\n`,
    );
  } finally {
    central.close();
  }
}

function resolveServer(ring: Ring, name: string): string {
  if (ring.node(name)) return name;
  if (/^ds-/.test(name)) throw notFound(`data server ${name} is not a member of the ring`);
  const address = formatHostPort(parseHostPort(name));
  const node = ring.nodes.find((n) => n.address === address);
  if (!node) throw notFound(`no member of the ring serves on ${address}`);
  return node.serverId;
}
