// The decommission of a data server as a pure state machine: the join
// protocol in reverse. Each transition takes the coordinator's snapshot (the
// committed ring and the decommission in progress) and returns the next one,
// which the coordinator persists and publishes in one commit (see
// ClusterCoordinator.commitSnapshot). Stages:
//   copy     the servers that own the leaving server's arcs in the next ring
//            copy them (clients still use the current ring: nothing moved yet);
//   finish   the next ring is committed; they copy what reached the leaving
//            server meanwhile, pulling on demand until then;
//   release  everything is on its new owner; the leaving server deletes its copies;
// then the snapshot holds no decommission. The forced form switches at once.
// No I/O, no clock, no randomness: the id comes from the caller.

import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import type { RangeTransfer, Ring, ServerId, TokenRange } from "../../ring/ring.ts";

export type DecommissionStage = "copy" | "finish" | "release";

export interface PersistedDecommission {
  id: string;
  serverId: ServerId;
  /** The leaving server's address, where the others copy from. */
  address: string;
  stage: DecommissionStage;
  /** The ring without the server; committed from stage "finish" on. */
  nextRing: Ring;
  transfers: RangeTransfer[];
}

export interface MembershipSnapshot {
  ring: Ring;
  decommission: PersistedDecommission | null;
}

/** The first snapshot of a decommission of `serverId` (stage copy; the ring unchanged). */
export function planDecommission(ring: Ring, serverId: ServerId, id: string): MembershipSnapshot {
  const node = ring.node(serverId);
  if (!node) {
    throw new AlbumError(ErrorCode.NotFound, `data server ${serverId} is not a member of the ring`);
  }
  const nextRing = ring.withoutServer(serverId);
  return {
    ring,
    decommission: {
      id,
      serverId,
      address: node.address,
      stage: "copy",
      nextRing,
      transfers: ring.transfersTo(nextRing),
    },
  };
}

function expectStage(
  snapshot: MembershipSnapshot,
  stage: DecommissionStage,
): PersistedDecommission {
  const d = snapshot.decommission;
  if (!d || d.stage !== stage) {
    throw new AlbumError(
      ErrorCode.FailedPrecondition,
      `no decommission in stage ${stage} (${d ? `it is in stage ${d.stage}` : "none runs"})`,
    );
  }
  return d;
}

/** The new owners hold a first copy: commit the ring without the server. */
export function switchRing(snapshot: MembershipSnapshot): MembershipSnapshot {
  const d = expectStage(snapshot, "copy");
  return { ring: d.nextRing, decommission: { ...d, stage: "finish" } };
}

/** The new owners have copied what arrived meanwhile: the server may delete its copies. */
export function caughtUp(snapshot: MembershipSnapshot): MembershipSnapshot {
  const d = expectStage(snapshot, "finish");
  return { ring: snapshot.ring, decommission: { ...d, stage: "release" } };
}

/** The server has released (or cannot be reached to): the decommission is over. */
export function released(snapshot: MembershipSnapshot): MembershipSnapshot {
  expectStage(snapshot, "release");
  return { ring: snapshot.ring, decommission: null };
}

/** A decommission interrupted before the switch is dropped (nothing moved yet). */
export function cancelBeforeSwitch(snapshot: MembershipSnapshot): MembershipSnapshot {
  expectStage(snapshot, "copy");
  return { ring: snapshot.ring, decommission: null };
}

/** The forced form, for a server whose data is gone: the ring switches at once. */
export function forceRemove(ring: Ring, serverId: ServerId): MembershipSnapshot {
  if (!ring.node(serverId)) {
    throw new AlbumError(ErrorCode.NotFound, `data server ${serverId} is not a member of the ring`);
  }
  return { ring: ring.withoutServer(serverId), decommission: null };
}

/** The arcs each new owner takes over, by server. */
export function rangesByTarget(d: PersistedDecommission): Map<ServerId, TokenRange[]> {
  const byTarget = new Map<ServerId, TokenRange[]>();
  for (const t of d.transfers) byTarget.set(t.to, [...(byTarget.get(t.to) ?? []), t.range]);
  return byTarget;
}
