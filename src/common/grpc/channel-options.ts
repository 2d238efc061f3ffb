// gRPC channel and server options shared by every AlbumSharing gRPC endpoint.
// Content travels in 1 MiB chunks, so the message limits are raised above
// grpc-js's 4 MiB default with room for framing; nothing larger is accepted.

import type { ChannelOptions } from "@grpc/grpc-js";

/** Size of one content chunk on the wire. */
export const CHUNK_SIZE = 1024 * 1024;

/** Largest message we send or accept: a chunk plus generous headroom. */
export const MAX_MESSAGE_BYTES = 4 * CHUNK_SIZE;

// A larger HTTP/2 flow-control window keeps a 1 MiB chunk in flight without
// waiting for window updates; the window still bounds what is buffered.
export const FLOW_CONTROL_WINDOW = 4 * CHUNK_SIZE;

export const clientChannelOptions: ChannelOptions = {
  "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
  "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
  "grpc-node.flow_control_window": FLOW_CONTROL_WINDOW,
  // Notice a vanished peer on long-lived streams (WatchRing, Join).
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.initial_reconnect_backoff_ms": 200,
  "grpc.max_reconnect_backoff_ms": 2_000,
  // Each address gets its own connection; a shared subchannel pool would let
  // a closed client tear down a connection another one still uses.
  "grpc.use_local_subchannel_pool": 1,
};

// grpc-js reads no flow-control option on the server side; the data server
// widens its receive windows itself (server-receive-window.ts).
export const serverChannelOptions: ChannelOptions = {
  "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
  "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
};
