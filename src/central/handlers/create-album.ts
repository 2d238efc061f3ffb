// createAlbum <name>: the creator becomes the first member; the album's
// metadata replica is stored with it. Names are unique per creator.
import { create } from "@bufbuild/protobuf";
import { CreateAlbumReplySchema } from "../../gen/albumshare/central/v1/central_pb.ts";
import type { Handler } from "../handler-context.ts";
import { canonicalNameForNew } from "../album-reference.ts";
import { initialReplica } from "../album-replica.ts";
import { checkAlbumName } from "../name-rules.ts";
import { requireLogin } from "../require-login.ts";

export const handleCreateAlbum: Handler<"createAlbum"> = (request, { connection, services }) => {
  const user = requireLogin(connection);
  const name = canonicalNameForNew(services.store, user, checkAlbumName(request.name));
  services.store.insertAlbum(name, user, initialReplica(user), [user]);
  services.logger.info({ user, album: name }, "album created");
  return { case: "createAlbum", value: create(CreateAlbumReplySchema) };
};
