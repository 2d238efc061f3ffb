// What the album commands need around the data path: a clear error for a
// local file that cannot be uploaded (checked before touching the network),
// whether a download target is a directory, and data-server failures turned
// into one line that names the data path. Never lets a content key into an
// error message.
import { stat } from "node:fs/promises";
import {
  AlbumError,
  ErrorCode,
  invalidArgument,
  notFound,
  permissionDenied,
} from "../../common/album-error.ts";
import { redactContentKeys } from "./redact-content-keys.ts";

/** A clear error for a local file that cannot be uploaded, before touching the network. */
export async function checkLocalFile(path: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const failure = AlbumError.from(error);
    if (failure.code === ErrorCode.NotFound) throw notFound(`no such local file: ${path}`);
    if (failure.code === ErrorCode.PermissionDenied) {
      throw permissionDenied(`cannot read the local file ${path}`);
    }
    throw failure;
  }
  if (!info.isFile()) throw invalidArgument(`${path} is not a regular file`);
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Names the data path in the message, so "unavailable" says which part of the system is. */
export function dataPathError(
  error: unknown,
  operation: "upload" | "download",
  displayName?: string,
): AlbumError {
  const failure = AlbumError.from(error, ErrorCode.Unavailable);
  const message = redactContentKeys(failure.message);
  if (failure.code === ErrorCode.Unavailable) {
    return new AlbumError(ErrorCode.Unavailable, `data server unreachable: ${message}`, {
      cause: failure,
    });
  }
  if (operation === "download" && failure.code === ErrorCode.NotFound) {
    return notFound(`the data servers do not hold the content of '${displayName ?? "the file"}'`);
  }
  return new AlbumError(failure.code, `${operation} failed: ${message}`, { cause: failure });
}
