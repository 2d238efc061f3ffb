// resumeAlbum: an editor whose connection dropped (or whose server
// restarted) reclaims its own slot of the same epoch with its resume key,
// hands in what the server may lack, and learns who edits with it now.
import { create } from "@bufbuild/protobuf";
import { ResumeAlbumReplySchema } from "../../gen/albumshare/central/v1/central_pb.ts";
import type { Handler } from "../handler-context.ts";
import { checkAlbumName } from "../name-rules.ts";
import { requireLogin } from "../require-login.ts";

export const handleResumeAlbum: Handler<"resumeAlbum"> = (request, { connection, services }) => {
  const user = requireLogin(connection);
  const result = services.sessions.resume(checkAlbumName(request.album), connection, user, {
    epoch: request.epoch,
    slot: request.slot,
    resumeKey: request.resumeKey,
    counter: request.counter,
    delta: request.delta,
    chat: request.chat,
    address: request.address,
  });
  return {
    case: "resumeAlbum",
    value: create(ResumeAlbumReplySchema, {
      ...result,
      ring: services.ring.currentRing(),
      handOffIntervalMs: services.handOffIntervalMs,
    }),
  };
};
