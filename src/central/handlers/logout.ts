// logout: forgets the login of this connection; the connection stays open.
import { create } from "@bufbuild/protobuf";
import { LogoutReplySchema } from "../../gen/albumshare/central/v1/central_pb.ts";
import type { Handler } from "../handler-context.ts";
import { requireLogin } from "../require-login.ts";

export const handleLogout: Handler<"logout"> = (_request, { connection, services }) => {
  const user = requireLogin(connection);
  // An editing session still open on this connection counts as lost (the
  // client does a putAlbum before logging out).
  services.sessions.connectionGone(connection, "logout");
  // Logging out ends the resumable login too.
  if (connection.loginToken) services.loginTokens.revoke(connection.loginToken);
  connection.loginToken = undefined;
  connection.user = undefined;
  services.logger.info({ user, connection: connection.id }, "user logged out");
  return { case: "logout", value: create(LogoutReplySchema) };
};
