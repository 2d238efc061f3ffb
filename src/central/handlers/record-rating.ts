// recordRating: a user rates a file at most once, ever. The record is stored
// before the editor applies the rating, so neither a new session, a
// reconnection nor a crash lets the same user rate the same file twice.
import { create } from "@bufbuild/protobuf";
import { RecordRatingReplySchema } from "../../gen/albumshare/central/v1/central_pb.ts";
import type { Handler } from "../handler-context.ts";
import { checkAlbumReference } from "../name-rules.ts";
import { requireLogin } from "../require-login.ts";

export const handleRecordRating: Handler<"recordRating"> = (request, { connection, services }) => {
  requireLogin(connection);
  services.sessions.recordRating(
    checkAlbumReference(request.album),
    connection,
    request.fileId,
    request.stars,
  );
  return { case: "recordRating", value: create(RecordRatingReplySchema) };
};
