// grpc-js gives a server no flow-control option: every connection it accepts
// keeps HTTP/2's default 64 KiB receive windows, so a client streaming an
// upload stops every 64 KiB until the server's event loop has consumed the
// data and sent a window update (measured on loopback: client and server each
// ~65 % idle, 1 GiB uploads at ~155 MiB/s; with wide windows ~200 MiB/s).
// This widens the receive windows of every connection the server accepts,
// like the client side's "grpc-node.flow_control_window" does for downloads.
// It reaches into grpc-js's list of its HTTP/2 servers (grpc-js 1.14, pinned
// in the lockfile): if that ever changes it does nothing, and transfers are
// slower, never wrong.
import type { Http2Server, ServerHttp2Session } from "node:http2";
import type { Server } from "@grpc/grpc-js";

/**
 * Call after bindAsync has succeeded. Returns whether the windows could be
 * widened (false: grpc-js no longer exposes its HTTP/2 servers this way).
 */
export function widenReceiveWindows(server: Server, streamWindowBytes: number): boolean {
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(http2Servers instanceof Map)) return false;
  let widened = false;
  for (const http2Server of http2Servers.keys() as IterableIterator<unknown>) {
    if (typeof (http2Server as Http2Server | undefined)?.on !== "function") continue;
    (http2Server as Http2Server).on("session", (session: ServerHttp2Session) => {
      // A few streams' worth for the connection, one window per stream.
      session.setLocalWindowSize(4 * streamWindowBytes);
      session.settings({ initialWindowSize: streamWindowBytes });
    });
    widened = true;
  }
  return widened;
}
