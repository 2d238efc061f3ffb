// announceEditor: the editor's peer endpoint is listening; the other editors
// of the session are told it joined, with the address to connect to.
import { create } from "@bufbuild/protobuf";
import { AnnounceEditorReplySchema } from "../../gen/albumshare/central/v1/central_pb.ts";
import type { Handler } from "../handler-context.ts";
import { checkAlbumReference } from "../name-rules.ts";
import { requireLogin } from "../require-login.ts";

export const handleAnnounceEditor: Handler<"announceEditor"> = (
  request,
  { connection, services },
) => {
  requireLogin(connection);
  services.sessions.announce(checkAlbumReference(request.album), connection, request.address);
  return { case: "announceEditor", value: create(AnnounceEditorReplySchema) };
};
