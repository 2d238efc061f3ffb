// Runs one data-path call at the owner of a key, following the ring: on a
// redirect it refreshes the ring to at least the version the server named and
// retries at the new owner; on an unavailable server it refreshes and retries
// a few times with backoff (the ring may have changed, or the server is
// restarting). Any other error is final. Bounded: never loops forever.

import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import { backoffDelay, sleep } from "../../common/grpc/backoff.ts";
import type { GrpcConnection } from "../../common/grpc/client-calls.ts";
import type { ConnectionPool } from "../../common/grpc/connection-pool.ts";
import { redirectRingVersion } from "../../common/grpc/ring-redirect.ts";
import type { ContentKey } from "../../ring/content-key.ts";
import type { Ring } from "../../ring/ring.ts";
import type { RingSource } from "./ring-source.ts";

const MAX_REDIRECTS = 8;
const MAX_UNAVAILABLE_RETRIES = 4;
const RING_CATCH_UP_ATTEMPTS = 30;

export async function callOwner<T>(
  key: ContentKey,
  ringSource: RingSource,
  pool: ConnectionPool,
  attempt: (connection: GrpcConnection, ring: Ring) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  let ring = ringSource.current();
  if (ring.isEmpty()) ring = await ringSource.refresh();
  let redirects = 0;
  let unavailable = 0;
  while (true) {
    if (ring.isEmpty()) {
      throw new AlbumError(ErrorCode.Unavailable, "no data server has joined the cluster yet");
    }
    const owner = ring.ownerOf(key);
    try {
      return await attempt(pool.get(owner.address), ring);
    } catch (reason) {
      const error = AlbumError.from(reason);
      if (signal?.aborted) throw error;
      const wanted = redirectRingVersion(error);
      if (wanted !== undefined && redirects < MAX_REDIRECTS) {
        redirects++;
        ring = await refreshTo(ringSource, wanted, signal);
        continue;
      }
      if (error.code === ErrorCode.Unavailable && unavailable < MAX_UNAVAILABLE_RETRIES) {
        await sleep(backoffDelay(unavailable, 200, 2_000), signal);
        unavailable++;
        pool.forget(owner.address);
        ring = await ringSource.refresh().catch(() => ring);
        continue;
      }
      throw error;
    }
  }
}

// A server redirects with the version it judged by; the central server may
// publish it a moment later than the data servers learn it, so wait a little.
async function refreshTo(
  ringSource: RingSource,
  version: number,
  signal?: AbortSignal,
): Promise<Ring> {
  let ring = ringSource.current();
  for (let i = 0; i < RING_CATCH_UP_ATTEMPTS; i++) {
    ring = await ringSource.refresh();
    if (ring.version >= version) return ring;
    await sleep(100, signal);
  }
  // Still older than the redirect named: try with what we have; a further
  // redirect counts against MAX_REDIRECTS.
  return ring;
}
