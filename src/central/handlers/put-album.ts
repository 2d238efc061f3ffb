// putAlbum: the editor's final replica is merged and stored, its slot freed
// (reusable: a clean leave), the others told; the last editor out triggers
// the album's compaction.
import { create } from "@bufbuild/protobuf";
import { PutAlbumReplySchema } from "../../gen/albumshare/central/v1/central_pb.ts";
import type { Handler } from "../handler-context.ts";
import { checkAlbumReference } from "../name-rules.ts";
import { requireLogin } from "../require-login.ts";

export const handlePutAlbum: Handler<"putAlbum"> = (request, { connection, services }) => {
  requireLogin(connection);
  services.sessions.put(
    checkAlbumReference(request.album),
    connection,
    request.replica,
    request.chat,
    request.chatSeq,
  );
  return { case: "putAlbum", value: create(PutAlbumReplySchema) };
};
