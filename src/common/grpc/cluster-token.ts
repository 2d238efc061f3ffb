// The cluster token: a shared secret that every internal RPC (central <-> data
// servers, data server <-> data server) carries in its metadata. Compared in
// constant time; never logged, never put in an error message.

import { createHash, timingSafeEqual } from "node:crypto";
import { Metadata } from "@grpc/grpc-js";
import { AlbumError, ErrorCode } from "../album-error.ts";

export const CLUSTER_TOKEN_METADATA_KEY = "x-albumshare-cluster-token";

export function clusterTokenMetadata(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set(CLUSTER_TOKEN_METADATA_KEY, token);
  return metadata;
}

// Hashing both sides first gives equal-length inputs to timingSafeEqual, so
// neither the content nor the length of the expected token leaks.
function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** Throws Unauthenticated unless `metadata` carries exactly `expected`. */
export function requireClusterToken(metadata: Metadata, expected: string): void {
  const presented = metadata.get(CLUSTER_TOKEN_METADATA_KEY)[0];
  const text = typeof presented === "string" ? presented : (presented?.toString("utf8") ?? "");
  const matches = timingSafeEqual(digest(text), digest(expected));
  if (text.length === 0 || !matches) {
    throw new AlbumError(
      ErrorCode.Unauthenticated,
      text.length === 0 ? "this call requires the cluster token" : "wrong cluster token",
    );
  }
}

/** Refuses an empty token at startup rather than running an open cluster. */
export function checkClusterTokenOption(token: string): void {
  if (token.length < 16) {
    throw new AlbumError(
      ErrorCode.InvalidArgument,
      "the cluster token must be at least 16 characters long",
    );
  }
}
