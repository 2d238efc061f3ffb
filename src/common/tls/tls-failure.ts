// Turns what node:tls reports when a handshake fails into one line for a
// person: which peer, and why its certificate (or the whole handshake) was
// refused. Pure; never decides anything.

const NOT_OUR_CA = "its certificate was not issued by the CA given with --tls-ca";

const reasons: Record<string, string> = {
  CERT_HAS_EXPIRED: "its certificate has expired",
  CERT_NOT_YET_VALID: "its certificate is not valid yet (check the clocks)",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: NOT_OUR_CA,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: NOT_OUR_CA,
  UNABLE_TO_GET_ISSUER_CERT: NOT_OUR_CA,
  SELF_SIGNED_CERT_IN_CHAIN: NOT_OUR_CA,
  DEPTH_ZERO_SELF_SIGNED_CERT: NOT_OUR_CA,
  ERR_TLS_CERT_ALTNAME_INVALID: "its certificate is not made out for this host name or address",
  CERT_SIGNATURE_FAILURE: NOT_OUR_CA,
  CERT_REVOKED: "its certificate has been revoked",
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: "it does not speak TLS 1.3",
  ERR_SSL_UNSUPPORTED_PROTOCOL: "it does not speak TLS 1.3",
  ERR_SSL_WRONG_VERSION_NUMBER: "it did not answer with TLS (is it running with --insecure?)",
  ECONNRESET: "it closed the connection during the TLS handshake (is it running with --insecure?)",
};

/** "its certificate has expired (CERT_HAS_EXPIRED)", or the bare message of an unknown failure. */
export function describeTlsFailure(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && reasons[code] !== undefined) return `${reasons[code]} (${code})`;
  if (/before secure TLS connection was established/.test(error.message)) {
    return "it closed the connection during the TLS handshake (is it running with --insecure?)";
  }
  return code !== undefined ? `${error.message} (${code})` : error.message;
}

/** What grpc-js reports for a failed handshake (node's messages), and ours for it. */
const grpcReasons: [RegExp, string][] = [
  [/certificate has expired/, reasons.CERT_HAS_EXPIRED!],
  [/certificate is not yet valid/, reasons.CERT_NOT_YET_VALID!],
  [
    /unable to verify the first certificate|unable to get (local )?issuer certificate|self[- ]signed certificate|certificate signature failure/,
    NOT_OUR_CA,
  ],
  [/Hostname\/IP does not match certificate's altnames/, reasons.ERR_TLS_CERT_ALTNAME_INVALID!],
  [/wrong version number|packet length too long/, reasons.ERR_SSL_WRONG_VERSION_NUMBER!],
];

/**
 * The details of a failed gRPC connection with a TLS failure put in words:
 * "No connection established. Last error: Error: certificate has expired."
 * becomes "TLS handshake failed: its certificate has expired". A plaintext
 * process whose peer hung up at once is told the peer may require TLS.
 * Anything else is returned as it is.
 */
export function explainGrpcConnectionFailure(details: string, plaintext: boolean): string {
  for (const [pattern, reason] of grpcReasons) {
    if (pattern.test(details)) return `TLS handshake failed: ${reason}`;
  }
  if (plaintext && /Last error: Failed to connect/.test(details)) {
    return `${details} (if the server requires TLS, give --tls-ca instead of --insecure)`;
  }
  return details;
}
