// Translates what the file system throws while a data server stores a content
// into the reply its client gets: a full disk or quota (ENOSPC, EDQUOT) and a
// lack of file handles (EMFILE, ENFILE) are RESOURCE_EXHAUSTED, any other
// failure of the disk (EIO, EROFS, ...) is INTERNAL, each naming what was not
// stored. It never swallows an error and never lets an errno reach a client
// unexplained; validation errors (already AlbumErrors) pass through unchanged.

import { AlbumError, ErrorCode } from "../../common/album-error.ts";

function errnoOf(reason: unknown): string | undefined {
  const code = (reason as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** The AlbumError for a failure while storing `what` (e.g. "abc123def456…"). */
export function storeFailure(reason: unknown, what: string): AlbumError {
  if (reason instanceof AlbumError) return reason;
  const errno = errnoOf(reason);
  switch (errno) {
    case "ENOSPC":
    case "EDQUOT":
      return new AlbumError(
        ErrorCode.ResourceExhausted,
        `the data server's disk is full; ${what} was not stored`,
        { cause: reason },
      );
    case "EMFILE":
    case "ENFILE":
      return new AlbumError(
        ErrorCode.ResourceExhausted,
        `the data server has no file handle free; ${what} was not stored`,
        { cause: reason },
      );
    case undefined:
      return AlbumError.from(reason);
    default:
      return new AlbumError(
        ErrorCode.Internal,
        `the data server's disk failed (${errno}); ${what} was not stored`,
        { cause: reason },
      );
  }
}
