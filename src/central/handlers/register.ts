// register <name> <password>: creates an account with a salted scrypt hash.
import { create } from "@bufbuild/protobuf";
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import { RegisterReplySchema } from "../../gen/albumshare/central/v1/central_pb.ts";
import type { Handler } from "../handler-context.ts";
import { checkPassword, checkUserName } from "../name-rules.ts";

export const handleRegister: Handler<"register"> = async (request, { connection, services }) => {
  const name = checkUserName(request.name);
  checkPassword(request.password);
  // Checked first to spare a slow hash; the insert re-checks atomically.
  if (services.store.findUser(name)) {
    throw new AlbumError(ErrorCode.AlreadyExists, `the user name '${name}' is taken`);
  }
  const passwordHash = await services.passwords.hash(
    { host: connection.remoteHost, signal: connection.closed },
    request.password,
  );
  services.store.insertUser(name, passwordHash);
  services.logger.info({ user: name }, "user registered");
  return { case: "register", value: create(RegisterReplySchema) };
};
