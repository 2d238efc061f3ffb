// gRPC credentials from the process's transport security: TLS (server
// certificate checked against --tls-ca, for the name or address dialled) or
// plaintext when the process runs --insecure on loopback. Used where the data
// servers and the central cluster port listen and wherever a gRPC channel is
// opened; the protocol on top is unchanged. TLS 1.3 is enforced through
// node:tls's defaults (see useTransportSecurity).
import type { ChannelCredentials } from "@grpc/grpc-js";
import { ServerCredentials, credentials } from "@grpc/grpc-js";
import { AlbumError, ErrorCode } from "../album-error.ts";
import { parseHostPort } from "../host-port.ts";
import { isLoopbackHost, transportSecurity, type TransportSecurity } from "./transport-security.ts";

export function grpcServerCredentials(
  security: TransportSecurity = transportSecurity(),
): ServerCredentials {
  if (security.kind === "plaintext") return ServerCredentials.createInsecure();
  if (!security.identity) {
    throw new AlbumError(
      ErrorCode.FailedPrecondition,
      "a TLS server needs --tls-cert and --tls-key",
    );
  }
  // Clients are not asked for certificates: the cluster token and logins say who they are.
  return ServerCredentials.createSsl(
    null,
    [{ cert_chain: security.identity.cert, private_key: security.identity.key }],
    false,
  );
}

/**
 * Credentials for a channel to `address` ("host:port"). A plaintext process
 * refuses to open one beyond loopback: a ring or a peer may name any address,
 * and content keys must not leave the host in the clear.
 */
export function grpcChannelCredentials(
  address: string,
  peerName: string,
  security: TransportSecurity = transportSecurity(),
): ChannelCredentials {
  if (security.kind === "plaintext") {
    if (!isLoopbackHost(parseHostPort(address).host)) {
      throw new AlbumError(
        ErrorCode.FailedPrecondition,
        `refusing to reach the ${peerName} without TLS: it is not on this machine (give --tls-ca instead of --insecure)`,
      );
    }
    return credentials.createInsecure();
  }
  return credentials.createSsl(security.ca);
}
