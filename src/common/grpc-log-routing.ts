// Sends the gRPC library's own console lines (e.g. "E No address added out of
// total 1 resolved" when a port is taken) into our logger at debug level, so
// a server's stderr holds one clear line per problem: every failure the
// library reports also reaches us as an error, which we report ourselves.
// The library's logger is process-wide; call this once, from a main program.
import { setLogger } from "@grpc/grpc-js";
import type { Logger } from "./logger.ts";

export function routeGrpcLogs(logger: Logger): void {
  setLogger({
    error: (...parts: unknown[]) => logger.debug({ grpc: parts.map(String).join(" ") }, "grpc"),
  });
}
