// userExists: lets a member check a name before adding it to an album.
import { create } from "@bufbuild/protobuf";
import { UserExistsReplySchema } from "../../gen/albumshare/central/v1/central_pb.ts";
import type { Handler } from "../handler-context.ts";
import { requireLogin } from "../require-login.ts";

export const handleUserExists: Handler<"userExists"> = (request, { connection, services }) => {
  requireLogin(connection);
  const user = request.name.length <= 64 ? services.store.findUser(request.name) : undefined;
  return {
    case: "userExists",
    value: create(UserExistsReplySchema, { exists: user !== undefined }),
  };
};
