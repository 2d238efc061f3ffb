// Guard used by every handler that acts on behalf of a user.
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import type { ConnectionState } from "./handler-context.ts";

export function requireLogin(connection: ConnectionState): string {
  if (connection.user === undefined) {
    throw new AlbumError(ErrorCode.Unauthenticated, "log in first (login <name> <password>)");
  }
  return connection.user;
}
