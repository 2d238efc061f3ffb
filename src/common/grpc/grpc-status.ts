// Translation between AlbumError codes and gRPC status codes, in both
// directions, so the same closed set of codes travels on the data path.
// Never invent a mapping outside this file.

import { explainGrpcConnectionFailure } from "../tls/tls-failure.ts";
import { transportSecurity } from "../tls/transport-security.ts";
import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { AlbumError, ErrorCode } from "../album-error.ts";

const toStatus: Record<ErrorCode, status> = {
  [ErrorCode.InvalidArgument]: status.INVALID_ARGUMENT,
  [ErrorCode.Unauthenticated]: status.UNAUTHENTICATED,
  [ErrorCode.PermissionDenied]: status.PERMISSION_DENIED,
  [ErrorCode.NotFound]: status.NOT_FOUND,
  [ErrorCode.AlreadyExists]: status.ALREADY_EXISTS,
  [ErrorCode.FailedPrecondition]: status.FAILED_PRECONDITION,
  [ErrorCode.ResourceExhausted]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.Unavailable]: status.UNAVAILABLE,
  [ErrorCode.Internal]: status.INTERNAL,
};

export function grpcStatusOf(code: ErrorCode): status {
  return toStatus[code];
}

export function errorCodeOfGrpcStatus(code: status): ErrorCode {
  switch (code) {
    case status.INVALID_ARGUMENT:
    case status.OUT_OF_RANGE:
      return ErrorCode.InvalidArgument;
    case status.UNAUTHENTICATED:
      return ErrorCode.Unauthenticated;
    case status.PERMISSION_DENIED:
      return ErrorCode.PermissionDenied;
    case status.NOT_FOUND:
      return ErrorCode.NotFound;
    case status.ALREADY_EXISTS:
      return ErrorCode.AlreadyExists;
    case status.FAILED_PRECONDITION:
    case status.UNIMPLEMENTED:
      return ErrorCode.FailedPrecondition;
    case status.RESOURCE_EXHAUSTED:
      return ErrorCode.ResourceExhausted;
    case status.UNAVAILABLE:
    case status.CANCELLED:
    case status.DEADLINE_EXCEEDED:
    case status.ABORTED:
      return ErrorCode.Unavailable;
    default:
      return ErrorCode.Internal;
  }
}

/** The status object a server sends for a thrown value (with optional trailers). */
export function serviceErrorOf(reason: unknown, trailers?: Metadata): Partial<ServiceError> {
  const error = AlbumError.from(reason);
  return {
    code: grpcStatusOf(error.code),
    details: error.message,
    metadata: trailers ?? new Metadata(),
  };
}

function isServiceError(reason: unknown): reason is ServiceError {
  return (
    reason instanceof Error &&
    typeof (reason as Partial<ServiceError>).code === "number" &&
    typeof (reason as Partial<ServiceError>).details === "string"
  );
}

/**
 * Turns what a gRPC call rejected with into an AlbumError whose cause is the
 * original ServiceError (its trailers stay readable, see `trailerOf`).
 * `peer` names the other side in the message ("data server 127.0.0.1:7402").
 */
export function albumErrorFromGrpc(reason: unknown, peer: string): AlbumError {
  if (reason instanceof AlbumError) return reason;
  if (isServiceError(reason)) {
    // grpc-js appends an often empty "Resolution note:" to connection errors.
    const details = explainGrpcConnectionFailure(
      (reason.details || reason.message).replace(/\s*Resolution note:\s*$/, ""),
      transportSecurity().kind === "plaintext",
    );
    return new AlbumError(errorCodeOfGrpcStatus(reason.code), `${peer}: ${details}`, {
      cause: reason,
    });
  }
  const error = AlbumError.from(reason);
  return new AlbumError(error.code, `${peer}: ${error.message}`, { cause: reason });
}

/** A trailer the server attached to an error, or undefined. */
export function trailerOf(error: AlbumError, key: string): string | undefined {
  const cause = error.cause;
  if (!isServiceError(cause) || !(cause.metadata instanceof Metadata)) return undefined;
  const values = cause.metadata.get(key);
  const first = values[0];
  if (first === undefined) return undefined;
  return typeof first === "string" ? first : first.toString("utf8");
}
