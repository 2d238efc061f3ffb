// What the shell says when connecting to the central server fails. A port
// that answers but is not a central server's client port (the cluster port
// speaks gRPC, a web server HTTP) fails the hello; that is said in those
// words instead of a framing error. Pure.
import { AlbumError, ErrorCode } from "../common/album-error.ts";

export function centralConnectError(reason: unknown, address: string): AlbumError {
  const error = AlbumError.from(reason, ErrorCode.Unavailable);
  // Only a failed hello means "not a central server"; any other answer (e.g.
  // a TLS server telling a plaintext client so) is the server's own word.
  if (!/not a valid message|hello/.test(error.message)) return error;
  return new AlbumError(
    ErrorCode.Unavailable,
    `${address} is not an AlbumSharing central server's client port (it did not answer the hello; ` +
      "the cluster port is for data servers; use the client port, 7400 by default)",
    { cause: error },
  );
}
