// ping: keeps an idle connection alive and lets clients measure round trips.
import { create } from "@bufbuild/protobuf";
import { PongSchema } from "../../gen/albumshare/central/v1/central_pb.ts";
import type { Handler } from "../handler-context.ts";

export const handlePing: Handler<"ping"> = () => ({ case: "pong", value: create(PongSchema) });
