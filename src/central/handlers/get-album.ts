// getAlbum <album>: opens an editing session for a member — a session slot,
// the server's replica, the user's rating record, the editors already there
// and the data-server ring.
import { create } from "@bufbuild/protobuf";
import { GetAlbumReplySchema } from "../../gen/albumshare/central/v1/central_pb.ts";
import type { Handler } from "../handler-context.ts";
import { checkAlbumName } from "../name-rules.ts";
import { requireLogin } from "../require-login.ts";

export const handleGetAlbum: Handler<"getAlbum"> = (request, { connection, services }) => {
  const user = requireLogin(connection);
  const opened = services.sessions.open(
    checkAlbumName(request.album),
    connection,
    user,
    request.peerPublicKey,
  );
  return {
    case: "getAlbum",
    value: create(GetAlbumReplySchema, {
      ...opened,
      ring: services.ring.currentRing(),
      handOffIntervalMs: services.handOffIntervalMs,
    }),
  };
};
