// A connection as the central server's session code sees it, for tests that
// drive EditingSessions in process (no socket): a fresh id per call, the
// user logged in, notifications handed to `notify` (dropped by default).
import type { ConnectionState } from "../../../src/central/handler-context.ts";
import type { ServerFrame } from "../../../src/gen/albumshare/central/v1/central_pb.ts";

let nextId = 1;

export function inProcessConnection(
  user: string,
  notify: (frame: ServerFrame["body"]) => void = () => {},
): ConnectionState {
  return {
    id: nextId++,
    remoteAddress: "test",
    remoteHost: "test",
    closed: new AbortController().signal,
    user,
    notify,
  };
}
