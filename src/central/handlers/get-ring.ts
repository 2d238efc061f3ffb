// getRing: the current data-server ring, for clients that upload or download.
import { create } from "@bufbuild/protobuf";
import { GetRingReplySchema } from "../../gen/albumshare/central/v1/central_pb.ts";
import type { Handler } from "../handler-context.ts";
import { requireLogin } from "../require-login.ts";

export const handleGetRing: Handler<"getRing"> = (_request, { connection, services }) => {
  requireLogin(connection);
  return {
    case: "getRing",
    value: create(GetRingReplySchema, { ring: services.ring.currentRing() }),
  };
};
