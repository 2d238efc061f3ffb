// Conversion between the in-process AlbumError and the wire Error message of
// the central protocol. The two code sets are the same closed set.
import { create } from "@bufbuild/protobuf";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import {
  ErrorCode as WireCode,
  ErrorSchema,
  type Error as WireError,
} from "../gen/albumshare/central/v1/central_pb.ts";

const toWire: Record<ErrorCode, WireCode> = {
  [ErrorCode.InvalidArgument]: WireCode.INVALID_ARGUMENT,
  [ErrorCode.Unauthenticated]: WireCode.UNAUTHENTICATED,
  [ErrorCode.PermissionDenied]: WireCode.PERMISSION_DENIED,
  [ErrorCode.NotFound]: WireCode.NOT_FOUND,
  [ErrorCode.AlreadyExists]: WireCode.ALREADY_EXISTS,
  [ErrorCode.FailedPrecondition]: WireCode.FAILED_PRECONDITION,
  [ErrorCode.ResourceExhausted]: WireCode.RESOURCE_EXHAUSTED,
  [ErrorCode.Unavailable]: WireCode.UNAVAILABLE,
  [ErrorCode.Internal]: WireCode.INTERNAL,
};

const fromWire = new Map<WireCode, ErrorCode>(
  Object.entries(toWire).map(([code, wire]) => [wire, code as ErrorCode]),
);

export function errorToWire(error: AlbumError): WireError {
  return create(ErrorSchema, { code: toWire[error.code], message: error.message });
}

export function errorFromWire(wire: WireError): AlbumError {
  // An unknown code from a newer peer is still an error; keep its message.
  const code = fromWire.get(wire.code) ?? ErrorCode.Internal;
  return new AlbumError(code, wire.message || "the server reported an error without a message");
}
