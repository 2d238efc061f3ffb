// createAlbum <name>: the creator becomes the first member; the album's
// metadata replica is stored with it.
import { create } from "@bufbuild/protobuf";
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import { CreateAlbumReplySchema } from "../../gen/albumshare/central/v1/central_pb.ts";
import type { Handler } from "../handler-context.ts";
import { initialReplica } from "../album-replica.ts";
import { checkAlbumName } from "../name-rules.ts";
import { requireLogin } from "../require-login.ts";

export const handleCreateAlbum: Handler<"createAlbum"> = (request, { connection, services }) => {
  const user = requireLogin(connection);
  const name = checkAlbumName(request.name);
  if (services.store.findAlbum(name)) {
    throw new AlbumError(ErrorCode.AlreadyExists, `an album named '${name}' already exists`);
  }
  services.store.insertAlbum(name, user, initialReplica(user), [user]);
  services.logger.info({ user, album: name }, "album created");
  return { case: "createAlbum", value: create(CreateAlbumReplySchema) };
};
