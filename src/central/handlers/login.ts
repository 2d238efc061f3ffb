// login <name> <password>. A wrong name and a wrong password get the same
// answer after the same amount of work, so names cannot be probed. One user may
// be logged in on several connections at once (two terminals of one person);
// editing sessions are limited per user and album instead.
import { create } from "@bufbuild/protobuf";
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import { LoginReplySchema } from "../../gen/albumshare/central/v1/central_pb.ts";
import type { Handler } from "../handler-context.ts";
import { MAX_PASSWORD, MAX_USER_NAME } from "../name-rules.ts";
import { verifyPassword } from "../password-hasher.ts";
import { loginWithToken } from "./login-with-token.ts";

const invalidCredentials = (): AlbumError =>
  new AlbumError(ErrorCode.Unauthenticated, "invalid name or password");

export const handleLogin: Handler<"login"> = async (request, context) => {
  const { connection, services } = context;
  if (connection.user !== undefined) {
    throw new AlbumError(
      ErrorCode.FailedPrecondition,
      `already logged in as '${connection.user}'; log out first`,
    );
  }
  if (request.sessionToken.byteLength > 0) return loginWithToken(request, context);
  if (request.name.length > MAX_USER_NAME || Buffer.byteLength(request.password) > MAX_PASSWORD) {
    throw invalidCredentials();
  }
  const user = services.store.findUser(request.name);
  const ok = await verifyPassword(
    request.password,
    user?.passwordHash ?? (await services.decoyPasswordHash),
  );
  if (!user || !ok) {
    services.logger.info({ connection: connection.id }, "failed login");
    throw invalidCredentials();
  }
  connection.user = user.name;
  // A resumable login: the client re-authenticates with this after a lost connection.
  const issued = services.loginTokens.issue(user.name);
  connection.loginToken = issued.token;
  services.logger.info({ user: user.name, connection: connection.id }, "user logged in");
  return {
    case: "login",
    value: create(LoginReplySchema, {
      name: user.name,
      sessionToken: issued.token,
      sessionTokenExpiresUnixMs: BigInt(issued.expiresAtUnixMs),
    }),
  };
};
