// Ends a server call's HTTP/2 stream at once (RST_STREAM CANCEL). grpc-js can
// only end a call by sending its status after every queued message has been
// taken by the client, which a client that stopped reading never does: its
// stream, and what is queued on it, would stay forever. This reaches into
// grpc-js's call object for the HTTP/2 stream (grpc-js 1.14, pinned in the
// lockfile); if that ever changes it does nothing and reports false.

import { constants, type Http2Stream } from "node:http2";

const MAX_DEPTH = 4;

function http2StreamOf(call: object): Http2Stream | undefined {
  // ServerWritableStreamImpl.call -> (interceptors' nextCall ...) -> BaseServerInterceptingCall.stream
  let layer = (call as { call?: unknown }).call;
  for (let depth = 0; depth < MAX_DEPTH && typeof layer === "object" && layer !== null; depth++) {
    const stream = (layer as { stream?: unknown }).stream;
    if (typeof (stream as Http2Stream | undefined)?.close === "function")
      return stream as Http2Stream;
    layer = (layer as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

/** Resets the call's HTTP/2 stream; false when it cannot be found. */
export function resetServerStream(call: object): boolean {
  const stream = http2StreamOf(call);
  if (!stream) return false;
  if (!stream.destroyed && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
  return true;
}
