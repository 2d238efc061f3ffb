// The one error type of AlbumSharing: a closed set of codes plus a human message,
// the cause kept. The same codes travel on the wire (central protocol ErrorCode,
// gRPC status on the data path), so every process can print a precise line.
// Never invent a code outside ErrorCode.

export enum ErrorCode {
  InvalidArgument = "invalid_argument",
  Unauthenticated = "unauthenticated",
  PermissionDenied = "permission_denied",
  NotFound = "not_found",
  AlreadyExists = "already_exists",
  FailedPrecondition = "failed_precondition",
  ResourceExhausted = "resource_exhausted",
  Unavailable = "unavailable",
  Internal = "internal",
}

/** Human-readable label of each code, used as the prefix of printed errors. */
export const errorCodeLabel: Record<ErrorCode, string> = {
  [ErrorCode.InvalidArgument]: "invalid argument",
  [ErrorCode.Unauthenticated]: "unauthenticated",
  [ErrorCode.PermissionDenied]: "permission denied",
  [ErrorCode.NotFound]: "not found",
  [ErrorCode.AlreadyExists]: "already exists",
  [ErrorCode.FailedPrecondition]: "failed precondition",
  [ErrorCode.ResourceExhausted]: "resource exhausted",
  [ErrorCode.Unavailable]: "unavailable",
  [ErrorCode.Internal]: "internal error",
};

export class AlbumError extends Error {
  override readonly name = "AlbumError";
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** Turns any thrown value into an AlbumError; OS errors are translated by code. */
  static from(reason: unknown, fallback: ErrorCode = ErrorCode.Internal): AlbumError {
    if (reason instanceof AlbumError) return reason;
    const errno = (reason as { code?: unknown } | null)?.code;
    if (typeof errno === "string") {
      const translated = translateErrno(errno);
      if (translated) {
        return new AlbumError(translated, describe(reason), { cause: reason });
      }
    }
    return new AlbumError(fallback, describe(reason), { cause: reason });
  }

  /** One line for a person: "not found: no album named 'x'". */
  toLine(): string {
    return `${errorCodeLabel[this.code]}: ${this.message}`;
  }
}

function describe(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return String(reason);
}

// OS errors become codes here, at the edge; the core never sees an errno.
function translateErrno(errno: string): ErrorCode | undefined {
  switch (errno) {
    case "ECONNREFUSED":
    case "ECONNRESET":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "ETIMEDOUT":
    case "EPIPE":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return ErrorCode.Unavailable;
    case "ENOSPC":
    case "EDQUOT":
    case "EMFILE":
    case "ENFILE":
      return ErrorCode.ResourceExhausted;
    case "ENOENT":
      return ErrorCode.NotFound;
    case "EEXIST":
      return ErrorCode.AlreadyExists;
    case "EACCES":
    case "EPERM":
      return ErrorCode.PermissionDenied;
    case "EADDRINUSE":
    case "EISDIR":
    case "ENOTDIR":
      return ErrorCode.FailedPrecondition;
    default:
      return undefined;
  }
}

export const invalidArgument = (message: string): AlbumError =>
  new AlbumError(ErrorCode.InvalidArgument, message);
export const notFound = (message: string): AlbumError =>
  new AlbumError(ErrorCode.NotFound, message);
export const failedPrecondition = (message: string): AlbumError =>
  new AlbumError(ErrorCode.FailedPrecondition, message);
export const permissionDenied = (message: string): AlbumError =>
  new AlbumError(ErrorCode.PermissionDenied, message);
