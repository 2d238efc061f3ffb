// The redirect of the data path: a data server that does not own a key
// answers FAILED_PRECONDITION with this trailer naming the ring version the
// client must refresh to. Shared by the servers that send it and the clients
// that follow it.

import type { AlbumError } from "../album-error.ts";
import { trailerOf } from "./grpc-status.ts";

export const RING_VERSION_TRAILER = "x-albumshare-ring-version";

/** The ring version a redirect asks for, or undefined when `error` is no redirect. */
export function redirectRingVersion(error: AlbumError): number | undefined {
  const value = trailerOf(error, RING_VERSION_TRAILER);
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}
