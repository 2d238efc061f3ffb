// Who may answer for a key: a data server judges with the newest ring it has,
// after waiting briefly for the version the client routed with, and answers a
// request for a key it does not own with a redirect: FAILED_PRECONDITION plus
// the `x-albumshare-ring-version` trailer naming the ring version to refresh
// to. Pure decisions plus the trailer; no I/O besides waiting on the view.

import type { Metadata } from "@grpc/grpc-js";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { RING_VERSION_TRAILER } from "../common/grpc/ring-redirect.ts";
import type { ContentKey } from "../ring/content-key.ts";
import type { Ring } from "../ring/ring.ts";
import type { RingView } from "./ring-view.ts";
import { shortKey } from "./storage/content-store.ts";

/** How long a request waits for a ring version its client already knows. */
const RING_CATCH_UP_MS = 5_000;

export function toSafeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new AlbumError(ErrorCode.InvalidArgument, `${what} ${value} is too large`);
  }
  return Number(value);
}

/** The ring to judge a request with: at least the client's version. */
export async function ringForRequest(
  view: RingView,
  clientVersion: bigint,
  signal: AbortSignal,
): Promise<Ring> {
  const wanted = toSafeNumber(clientVersion, "ring version");
  const ring = await view.atLeast(wanted, RING_CATCH_UP_MS, signal);
  if (ring.isEmpty()) {
    throw new AlbumError(
      ErrorCode.Unavailable,
      "this data server has not yet received the ring from the central server; retry shortly",
    );
  }
  return ring;
}

/** The error that sends a client to the owner of `key` in `ring`. */
export function redirectTo(ring: Ring, key: ContentKey, trailers: Metadata): AlbumError {
  trailers.set(RING_VERSION_TRAILER, String(ring.version));
  const owner = ring.ownerOf(key);
  return new AlbumError(
    ErrorCode.FailedPrecondition,
    `key ${shortKey(key)} belongs to data server ${owner.serverId} at ${owner.address} in ring version ${ring.version}; refresh the ring and retry there`,
  );
}
