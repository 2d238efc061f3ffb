// Time and size limits of the web server's request bodies, per kind of
// route: a JSON body (names, passwords, chat lines) must be small and arrive
// whole within a few seconds; an upload streams for as long as it keeps
// moving, so it is limited in idleness (and in size by the upload quota),
// never in total time. A body that breaks a limit gets one clear reply
// (408 or 413) and its connection is closed once the reply is out, which
// frees the socket, the staged file and the handler. A stall on our side
// (the disk is slow and backpressure holds the socket) never counts against
// the client. Never reads a body itself, never throws.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { AlbumError, ErrorCode } from "../common/album-error.ts";

export interface RequestLimits {
  /** A body that delivers no byte for this long is cut off (408). */
  bodyIdleMs: number;
  /** A JSON body must be whole within this time (408). */
  jsonBodyMs: number;
  /** Uploads being received at once, all sessions together (429 past it). */
  maxReceivingUploads: number;
  /** Open connections, all kinds together (live channels included); more are dropped at accept. */
  maxConnections: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  bodyIdleMs: 30_000,
  jsonBodyMs: 10_000,
  maxReceivingUploads: 64,
  maxConnections: 512,
};

/** How a route reads its body: not at all, a small JSON object, or a stream to disk. */
export type BodyKind = "none" | "json" | "upload";

/**
 * An AlbumError whose HTTP status is not the one of its code: a request that
 * was too slow (408) or one too many at once (429).
 */
export class HttpRefusal extends AlbumError {
  readonly status: number;

  constructor(status: number, code: ErrorCode, message: string) {
    super(code, message);
    this.status = status;
  }
}

export function tooManyAtOnce(message: string): HttpRefusal {
  return new HttpRefusal(429, ErrorCode.ResourceExhausted, message);
}

/** How long a connection whose reply went out before its body was read keeps draining it. */
const LINGER_MS = 1000;

/**
 * Call once per request, before replying. When the reply is out and the body
 * is not whole (refused early, or cut off), what the client still sends is
 * read and dropped for a moment: a body that ends then leaves a keep-alive
 * connection usable (a small body often arrives just after an early reply);
 * one that does not is destroyed with its connection, which releases a
 * handler still waiting for it. Closing at once with unread bytes would reset
 * the connection, and the client could lose the reply that says what was
 * wrong; waiting for the body without a bound would let a trickling client
 * hold the connection for as long as it likes.
 */
export function closeUnreadBodyAfterReply(
  request: IncomingMessage,
  response: ServerResponse,
): void {
  // Taken now: node detaches the socket from the request once the reply is out.
  const socket = request.socket;
  response.once("finish", () => dropUnreadBody(request, socket, false));
}

function dropUnreadBody(request: IncomingMessage, socket: Socket, now: boolean): void {
  if (request.complete) return;
  const destroy = (): void => {
    if (request.destroyed || request.complete) return;
    // Whoever still reads it sees the error; nobody reading must not make it uncaught.
    request.on("error", () => {});
    // Destroyed by hand: once its reply is finished, node no longer ends a
    // request whose socket closes, and its reader would wait forever.
    request.destroy(
      new AlbumError(ErrorCode.Unavailable, "the connection was closed before the body was read"),
    );
    socket.destroy();
  };
  if (now || socket.destroyed) return destroy();
  // The client closing ends it at once (node no longer tells the request).
  socket.once("close", destroy);
  if (request.listenerCount("data") === 0) request.resume();
  setTimeout(destroy, LINGER_MS).unref();
}

/**
 * Watches the body of `request` while its handler runs. When a limit passes,
 * `refuse` is called once with the reason (it replies); the connection then
 * closes as closeUnreadBodyAfterReply says, which makes the handler's read
 * fail and release what it held. Call the returned function when the handler
 * is done.
 */
export function watchBody(
  request: IncomingMessage,
  response: ServerResponse,
  kind: BodyKind,
  limits: RequestLimits,
  refuse: (reason: HttpRefusal) => void,
): () => void {
  const socket = request.socket;
  if (kind === "none" || request.complete) return () => {};

  let lastBytes = socket.bytesRead;
  let lastProgress = Date.now();
  let expired = false;
  const expire = (message: string): void => {
    if (expired || request.complete) return;
    expired = true;
    stop();
    if (response.headersSent) return dropUnreadBody(request, socket, true);
    // The client is told the connection ends with this reply.
    response.setHeader("Connection", "close");
    refuse(new HttpRefusal(408, ErrorCode.Unavailable, message));
    // A reply that cannot be handed over (the client reads nothing) must not hold the socket either.
    setTimeout(() => dropUnreadBody(request, socket, true), 2 * LINGER_MS).unref();
  };
  const tick = setInterval(
    () => {
      if (request.complete) return stop();
      const now = Date.now();
      // Bytes arrived, or the body waits in our buffer for the handler (our
      // disk is slow): not the client's fault.
      if (socket.bytesRead !== lastBytes || request.readableLength > 0) {
        lastBytes = socket.bytesRead;
        lastProgress = now;
        return;
      }
      if (now - lastProgress >= limits.bodyIdleMs) {
        expire(`the request body stalled: no byte for ${seconds(limits.bodyIdleMs)}`);
      }
    },
    Math.max(50, Math.min(1000, limits.bodyIdleMs / 4)),
  );
  const total =
    kind === "json"
      ? setTimeout(
          () => expire(`the request body did not arrive within ${seconds(limits.jsonBodyMs)}`),
          limits.jsonBodyMs,
        )
      : undefined;
  function stop(): void {
    clearInterval(tick);
    clearTimeout(total);
  }
  response.once("close", stop);
  return stop;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
