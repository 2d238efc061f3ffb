// `albumshare decommission <server>`: the operator removes a data server from
// the cluster. The server is named by its id (ds-…) or its address; the
// central server's coordinator moves its keys to the servers that own them in
// the next ring (the join in reverse) and answers when it is done; this
// prints one line. `--force` is for a server whose data is gone: the ring
// switches at once, and the line says how many content keys the albums
// reference that were on it (lost), in how many albums, naming a few files.
// Never moves data itself.

import type { Writable } from "node:stream";
import { invalidArgument, notFound } from "../common/album-error.ts";
import { GrpcConnection } from "../common/grpc/client-calls.ts";
import { clusterTokenMetadata } from "../common/grpc/cluster-token.ts";
import { formatHostPort, parseHostPort } from "../common/host-port.ts";
import {
  ClusterService,
  type DecommissionResponse,
} from "../gen/albumshare/cluster/v1/cluster_pb.ts";
import { Ring } from "../ring/ring.ts";
import { printable } from "./session-event-lines.ts";

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
/** File names a forced removal's line shows at most. */
const SHOWN_NAMES = 3;

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
        ? `${forcedRemovalLine(serverId, done)}\n`
        : `decommissioned ${serverId}: ${done.movedKeys} keys (${done.movedBytes} bytes) moved to their new owners; ring version ${version}\n`,
    );
  } finally {
    central.close();
  }
}

/** The line for a forced removal: what the albums lost, with a few file names. */
export function forcedRemovalLine(serverId: string, done: DecommissionResponse): string {
  const version = Number(done.ringVersion);
  if (!done.lostKeysKnown)
    return `removed ${serverId}; its keys are lost (how many is unknown: the coordinator has no albums to count from); ring version ${version}`;
  const keys = Number(done.lostKeys);
  const unreadable = Number(done.unreadableAlbums);
  const notCounted =
    unreadable > 0
      ? `; ${unreadable} ${unreadable === 1 ? "album" : "albums"} could not be read and ${unreadable === 1 ? "is" : "are"} not counted`
      : "";
  if (keys === 0)
    return `removed ${serverId}; no content key referenced by an album was on it${notCounted}; ring version ${version}`;
  const albums = Number(done.lostAlbums);
  const files = Number(done.lostFiles);
  // Names come from albums people edit: shown through printable(), a few at most.
  const names = done.lostFileNames.slice(0, SHOWN_NAMES).map((n) => printable(n.slice(0, 120)));
  const more = files > names.length ? `, and ${files - names.length} more` : "";
  return (
    `removed ${serverId}; ${keys} content ${keys === 1 ? "key" : "keys"} referenced by ${albums} ${albums === 1 ? "album" : "albums"} ` +
    `${keys === 1 ? "was" : "were"} on it and ${keys === 1 ? "is" : "are"} lost (files: ${names.join(", ")}${more})${notCounted}; ring version ${version}`
  );
}

function resolveServer(ring: Ring, name: string): string {
  if (ring.node(name)) return name;
  if (/^ds-/.test(name)) throw notFound(`data server ${name} is not a member of the ring`);
  const address = formatHostPort(parseHostPort(name));
  const node = ring.nodes.find((n) => n.address === address);
  if (!node) throw notFound(`no member of the ring serves on ${address}`);
  return node.serverId;
}
