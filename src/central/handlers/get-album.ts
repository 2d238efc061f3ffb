// getAlbum <album>: opens an editing session for a member — a session slot,
// the server's replica, the user's rating record, the editors already there
// and the data-server ring.
import { create } from "@bufbuild/protobuf";
import { GetAlbumReplySchema } from "../../gen/albumshare/central/v1/central_pb.ts";
import type { Handler } from "../handler-context.ts";
import { resolveAlbumReference } from "../album-reference.ts";
import { checkAlbumReference } from "../name-rules.ts";
import { requireLogin } from "../require-login.ts";

export const handleGetAlbum: Handler<"getAlbum"> = (request, { connection, services }) => {
  const user = requireLogin(connection);
  const album = resolveAlbumReference(services.store, user, checkAlbumReference(request.album));
  const opened = services.sessions.open(album, connection, user, request.peerPublicKey);
  return {
    case: "getAlbum",
    value: create(GetAlbumReplySchema, {
      ...opened,
      ring: services.ring.currentRing(),
      handOffIntervalMs: services.handOffIntervalMs,
    }),
  };
};
