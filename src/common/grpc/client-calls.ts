// Client side of the gRPC adapter: typed calls over a grpc-js Client using
// protobuf-es v2 method descriptors. Unary calls return a promise, server
// streams are async iterables (pulled, so a slow consumer slows the sender),
// client streams expose a `send` that waits for 'drain'. Every failure is an
// AlbumError naming the peer; its cause keeps the gRPC trailers.
// Never retries: what to do on a failure is the caller's decision.

import {
  create,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import {
  Client,
  Metadata,
  type CallOptions,
  type ClientReadableStream,
  type ClientWritableStream,
  type ServiceError,
} from "@grpc/grpc-js";
import { AlbumError, ErrorCode } from "../album-error.ts";
import { grpcChannelCredentials } from "../tls/grpc-credentials.ts";
import { clientChannelOptions } from "./channel-options.ts";
import { albumErrorFromGrpc } from "./grpc-status.ts";
import { deserializerOf, methodPath, serializerOf } from "./service-definition.ts";
import { limitReadAhead, WriteWindow } from "./stream-window.ts";

interface TypedMethod<I extends DescMessage, O extends DescMessage> {
  readonly name: string;
  readonly parent: { readonly typeName: string };
  readonly input: I;
  readonly output: O;
}

export interface CallSettings {
  metadata?: Metadata;
  /** Absolute deadline; none by default (streams may be long). */
  deadline?: Date;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/** A connection to one gRPC endpoint ("host:port"), HTTP/2 over TLS unless the process runs --insecure. */
export class GrpcConnection {
  readonly address: string;
  readonly client: Client;
  /** Name of the peer used in error messages, e.g. "data server 127.0.0.1:7402". */
  readonly peerName: string;

  constructor(address: string, peerName = address) {
    this.address = address;
    this.peerName = peerName;
    this.client = new Client(
      address,
      grpcChannelCredentials(address, peerName),
      clientChannelOptions,
    );
  }

  close(): void {
    this.client.close();
  }

  unary<I extends DescMessage, O extends DescMessage>(
    method: TypedMethod<I, O>,
    request: MessageInitShape<I>,
    settings: CallSettings = {},
  ): Promise<MessageShape<O>> {
    return new Promise((resolve, reject) => {
      const call = this.client.makeUnaryRequest<object, MessageShape<O>>(
        methodPath(method as never),
        serializerOf(method.input),
        deserializerOf(method.output),
        create(method.input, request),
        settings.metadata ?? new Metadata(),
        callOptionsOf(settings),
        (error: ServiceError | null, response?: MessageShape<O>) => {
          settings.signal?.removeEventListener("abort", cancel);
          if (error || response === undefined) reject(albumErrorFromGrpc(error, this.peerName));
          else resolve(response);
        },
      );
      const cancel = (): void => call.cancel();
      settings.signal?.addEventListener("abort", cancel, { once: true });
    });
  }

  /** Messages of a server stream, in order; leaving the loop early cancels the call. */
  async *serverStream<I extends DescMessage, O extends DescMessage>(
    method: TypedMethod<I, O>,
    request: MessageInitShape<I>,
    settings: CallSettings = {},
  ): AsyncGenerator<MessageShape<O>, void, undefined> {
    const call: ClientReadableStream<MessageShape<O>> = this.client.makeServerStreamRequest(
      methodPath(method as never),
      serializerOf(method.input),
      deserializerOf(method.output),
      create(method.input, request),
      settings.metadata ?? new Metadata(),
      callOptionsOf(settings),
    );
    limitReadAhead(call);
    const cancel = (): void => call.cancel();
    settings.signal?.addEventListener("abort", cancel, { once: true });
    let finished = false;
    try {
      for await (const message of call) yield message as MessageShape<O>;
      finished = true;
    } catch (reason) {
      finished = true;
      throw albumErrorFromGrpc(reason, this.peerName);
    } finally {
      settings.signal?.removeEventListener("abort", cancel);
      if (!finished) call.cancel();
    }
  }

  /** Opens a client stream; send messages with `send`, then `finish` for the reply. */
  clientStream<I extends DescMessage, O extends DescMessage>(
    method: TypedMethod<I, O>,
    settings: CallSettings = {},
  ): ClientStreamCall<I, O> {
    let settle!: {
      resolve: (value: MessageShape<O>) => void;
      reject: (reason: AlbumError) => void;
    };
    const reply = new Promise<MessageShape<O>>((resolve, reject) => (settle = { resolve, reject }));
    // Observed at once so a failure before `finish` is not an unhandled rejection.
    reply.catch(() => undefined);
    const call = this.client.makeClientStreamRequest<object, MessageShape<O>>(
      methodPath(method as never),
      serializerOf(method.input),
      deserializerOf(method.output),
      settings.metadata ?? new Metadata(),
      callOptionsOf(settings),
      (error: ServiceError | null, response?: MessageShape<O>) => {
        if (error || response === undefined)
          settle.reject(albumErrorFromGrpc(error, this.peerName));
        else settle.resolve(response);
      },
    );
    // A write error is reported through the callback with the status.
    call.on("error", () => undefined);
    const cancel = (): void => call.cancel();
    settings.signal?.addEventListener("abort", cancel, { once: true });
    return new ClientStreamCall(call, method.input, reply, () =>
      settings.signal?.removeEventListener("abort", cancel),
    );
  }
}

export class ClientStreamCall<I extends DescMessage, O extends DescMessage> {
  private state: "open" | "replied" | "failed" = "open";
  private readonly window: WriteWindow;
  private readonly settled: Promise<unknown>;

  constructor(
    private readonly call: ClientWritableStream<object>,
    private readonly schema: I,
    private readonly reply: Promise<MessageShape<O>>,
    private readonly cleanup: () => void,
  ) {
    reply.then(
      () => (this.state = "replied"),
      () => (this.state = "failed"),
    );
    this.window = new WriteWindow(call);
    this.settled = reply.catch(() => undefined);
  }

  /**
   * Sends one message; resolves when the stream can take more. Resolves false
   * when the server has already replied (it needs no more, e.g. the content
   * was already present) and rejects with the server's status once the call
   * has failed, so a sender never streams a whole file into a closed call.
   */
  async send(message: MessageInitShape<I>): Promise<boolean> {
    if (this.state === "failed") await this.reply;
    if (this.state === "replied") return false;
    await Promise.race([this.window.write(create(this.schema, message)), this.settled]);
    if (this.state === "failed") await this.reply;
    return this.state === "open";
  }

  /** Half-closes the stream and waits for the server's reply. */
  async finish(): Promise<MessageShape<O>> {
    if (this.state === "open") this.call.end();
    try {
      return await this.reply;
    } finally {
      this.cleanup();
    }
  }

  cancel(): void {
    this.call.cancel();
    this.cleanup();
  }
}

function callOptionsOf(settings: CallSettings): CallOptions {
  return settings.deadline ? { deadline: settings.deadline } : {};
}

/** Fails with Unavailable after `ms` unless `promise` settles first. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new AlbumError(ErrorCode.Unavailable, `${what}: no answer within ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
