// Server side of the gRPC adapter: lets a service be written as plain async
// functions and async generators over protobuf-es messages (as connect-es
// does), and turns them into grpc-js handlers that honour backpressure
// (a server stream waits for 'drain'), cancellation (an AbortSignal) and our
// error codes (thrown AlbumErrors become gRPC statuses, with trailers).
// It must never buffer a whole stream.

import { once } from "node:events";
import { Writable } from "node:stream";
import {
  create,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import {
  Metadata,
  type Server,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedHandleCall,
  type sendUnaryData,
} from "@grpc/grpc-js";
import { AlbumError, ErrorCode } from "../album-error.ts";
import { serviceErrorOf } from "./grpc-status.ts";
import { resetServerStream } from "./reset-server-stream.ts";
import { serviceDefinitionOf } from "./service-definition.ts";
import { limitReadAhead, WriteWindow } from "./stream-window.ts";

/** What a handler knows about its call besides the request. */
export interface CallContext {
  /** Request metadata (headers). */
  readonly metadata: Metadata;
  /** Aborted when the client cancels or goes away. */
  readonly signal: AbortSignal;
  /** Trailers sent with the status (also with an error status). */
  readonly trailers: Metadata;
  /** The remote address, for logs. */
  readonly peer: string;
  /**
   * Ends the call from the server side (a stalled transfer): `signal` aborts
   * with `reason`, the client gets it as the status when it can still take
   * one, and a stream the client no longer reads is reset shortly after.
   */
  cancel(reason: unknown): void;
}

/** How long a cancelled stream may take to deliver its status before it is reset. */
const STATUS_GRACE_MS = 1_000;

type In<M extends GenServiceMethods[string]> = MessageShape<M["input"]>;
type Out<M extends GenServiceMethods[string]> = MessageInitShape<M["output"]>;

export type MethodHandler<M extends GenServiceMethods[string]> = M["methodKind"] extends "unary"
  ? (request: In<M>, context: CallContext) => Promise<Out<M>>
  : M["methodKind"] extends "server_streaming"
    ? (request: In<M>, context: CallContext) => AsyncIterable<Out<M>>
    : M["methodKind"] extends "client_streaming"
      ? (requests: AsyncIterable<In<M>>, context: CallContext) => Promise<Out<M>>
      : (requests: AsyncIterable<In<M>>, context: CallContext) => AsyncIterable<Out<M>>;

export type ServiceImplementation<S extends GenServiceMethods> = {
  [K in keyof S]: MethodHandler<S[K]>;
};

type AnyCall =
  | ServerUnaryCall<object, object>
  | ServerReadableStream<object, object>
  | ServerWritableStream<object, object>
  | ServerDuplexStream<object, object>;

function contextOf(call: AnyCall): CallContext {
  const controller = new AbortController();
  const abort = (): void =>
    controller.abort(new AlbumError(ErrorCode.Unavailable, "call cancelled"));
  if (call.cancelled) abort();
  else (call as NodeJS.EventEmitter).once("cancelled", abort);
  const trailers = new Metadata();
  return {
    metadata: call.metadata,
    signal: controller.signal,
    trailers,
    peer: call.getPeer(),
    cancel: (reason: unknown) => {
      if (controller.signal.aborted) return;
      controller.abort(reason);
      // A client stream is answered by its handler's rejection; a server
      // stream gets the status now, and a reset if it is stuck behind data.
      if (call instanceof Writable) {
        call.emit("error", serviceErrorOf(reason, trailers));
        setTimeout(() => resetServerStream(call), STATUS_GRACE_MS).unref();
      }
    },
  };
}

// Writes each message, keeping only a few queued (see stream-window.ts):
// without a bound a fast producer queues the stream in memory.
async function writeAll(
  call: ServerWritableStream<object, object> | ServerDuplexStream<object, object>,
  schema: DescMessage,
  messages: AsyncIterable<object>,
  signal: AbortSignal,
): Promise<void> {
  const window = new WriteWindow(call);
  const aborted = once(signal, "abort").catch(() => undefined);
  for await (const init of messages) {
    if (signal.aborted) return;
    await Promise.race([window.write(create(schema, init as never)), aborted]);
  }
  await Promise.race([window.flush(), aborted]);
}

function handlerOf(
  kind: string,
  output: DescMessage,
  implementation: (...args: never[]) => unknown,
): UntypedHandleCall {
  const fn = implementation as (input: unknown, context: CallContext) => unknown;
  switch (kind) {
    case "unary":
      return (call: ServerUnaryCall<object, object>, callback: sendUnaryData<object>) => {
        const context = contextOf(call);
        (fn(call.request, context) as Promise<object>).then(
          (response) => callback(null, create(output, response as never), context.trailers),
          (reason: unknown) => callback(serviceErrorOf(reason, context.trailers)),
        );
      };
    case "client_streaming":
      return (call: ServerReadableStream<object, object>, callback: sendUnaryData<object>) => {
        limitReadAhead(call);
        const context = contextOf(call);
        (fn(call, context) as Promise<object>).then(
          (response) => callback(null, create(output, response as never), context.trailers),
          (reason: unknown) => {
            // Stop reading: the rest of the stream is of no use now.
            call.destroy();
            callback(serviceErrorOf(reason, context.trailers));
          },
        );
      };
    case "server_streaming":
    case "bidi_streaming":
      return (call: ServerWritableStream<object, object>) => {
        const context = contextOf(call);
        const input = kind === "server_streaming" ? call.request : call;
        writeAll(call, output, fn(input, context) as AsyncIterable<object>, context.signal).then(
          () => {
            if (!context.signal.aborted) call.end(context.trailers);
          },
          (reason: unknown) => {
            if (!context.signal.aborted)
              call.emit("error", serviceErrorOf(reason, context.trailers));
          },
        );
      };
    default:
      throw new AlbumError(ErrorCode.Internal, `unsupported method kind ${kind}`);
  }
}

/** Registers `implementation` for `service` on a grpc-js server. */
export function addService<S extends GenServiceMethods>(
  server: Server,
  service: GenService<S>,
  implementation: ServiceImplementation<S>,
): void {
  const handlers: Record<string, UntypedHandleCall> = {};
  for (const method of service.methods) {
    const fn = (implementation as Record<string, (...args: never[]) => unknown>)[method.localName];
    if (!fn) throw new AlbumError(ErrorCode.Internal, `no handler for ${method.name}`);
    handlers[method.localName] = handlerOf(
      method.methodKind,
      method.output,
      fn.bind(implementation),
    );
  }
  server.addService(serviceDefinitionOf(service), handlers);
}
