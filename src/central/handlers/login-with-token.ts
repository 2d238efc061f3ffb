// login with a session token (LoginRequest.session_token): a client that lost
// its connection (or whose server restarted) logs its user in again without
// the password. The token stays valid as it was (same expiry); the reply
// carries no new one. A bad token gets "unauthenticated", nothing more.
import { create } from "@bufbuild/protobuf";
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import {
  LoginReplySchema,
  type LoginRequest,
  type ServerFrame,
} from "../../gen/albumshare/central/v1/central_pb.ts";
import type { HandlerContext } from "../handler-context.ts";

export function loginWithToken(
  request: LoginRequest,
  { connection, services }: HandlerContext,
): ServerFrame["body"] {
  if (request.name !== "" || request.password !== "") {
    throw new AlbumError(
      ErrorCode.InvalidArgument,
      "a login carries either a name and password or a session token, not both",
    );
  }
  const user = services.loginTokens.verify(request.sessionToken);
  connection.user = user;
  connection.loginToken = request.sessionToken;
  services.logger.info({ user, connection: connection.id }, "user logged in with a session token");
  return { case: "login", value: create(LoginReplySchema, { name: user }) };
}
