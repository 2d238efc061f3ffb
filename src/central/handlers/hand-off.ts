// handOff: an editor's periodic delta of the open session, merged into the
// server's replica and stored before the reply, so edits survive even if every
// editor of the session crashes.
import { create } from "@bufbuild/protobuf";
import { HandOffReplySchema } from "../../gen/albumshare/central/v1/central_pb.ts";
import type { Handler } from "../handler-context.ts";
import { checkAlbumName } from "../name-rules.ts";
import { requireLogin } from "../require-login.ts";

export const handleHandOff: Handler<"handOff"> = (request, { connection, services }) => {
  requireLogin(connection);
  services.sessions.handOff(checkAlbumName(request.album), connection, request.delta, request.chat);
  return { case: "handOff", value: create(HandOffReplySchema) };
};
