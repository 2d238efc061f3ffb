// One client connection to the central server: the hello exchange, the login
// state, in-order handling of requests (a client may pipeline them), replies
// echoing the request id, pushed notifications, and the idle timeout that
// drops dead peers. Protocol violations close this connection only.
import { create } from "@bufbuild/protobuf";
import type { Socket } from "node:net";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import {
  ClientFrameSchema,
  HelloReplySchema,
  NotificationSchema,
  ServerClosingSchema,
  ServerFrameSchema,
  type ClientFrame,
  type ServerFrame,
} from "../gen/albumshare/central/v1/central_pb.ts";
import { FramedSocket } from "../protocol/framed-socket.ts";
import { CENTRAL_PROTOCOL_VERSION } from "../protocol/version.ts";
import { errorToWire } from "../protocol/wire-error.ts";
import type {
  CentralServices,
  ConnectionState,
  Handler,
  HandlerTable,
  RequestCase,
} from "./handler-context.ts";

export interface CentralConnectionOptions {
  id: number;
  socket: Socket;
  services: CentralServices;
  handlers: HandlerTable;
  maxFrameBytes: number;
  idleTimeoutMs: number;
  onClose(connection: CentralConnection): void;
}

// Bounds the requests one connection may have queued, so a client that floods
// us is paused (TCP backpressure) instead of growing our memory.
const MAX_QUEUED_REQUESTS = 64;

export class CentralConnection implements ConnectionState {
  readonly id: number;
  readonly remoteAddress: string;
  user: string | undefined;
  loginToken: Uint8Array | undefined;
  private readonly framed: FramedSocket<typeof ClientFrameSchema, typeof ServerFrameSchema>;
  private readonly options: CentralConnectionOptions;
  private greeted = false;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(options: CentralConnectionOptions) {
    this.options = options;
    this.id = options.id;
    const { socket } = options;
    this.remoteAddress = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
    socket.setTimeout(options.idleTimeoutMs, () => {
      this.logger.info({ connection: this.id }, "idle connection dropped");
      socket.destroy();
    });
    this.framed = new FramedSocket(
      socket,
      ClientFrameSchema,
      ServerFrameSchema,
      {
        message: (frame) => this.enqueue(frame),
        protocolError: (error) => this.refuse(error),
        close: () => options.onClose(this),
      },
      options.maxFrameBytes,
    );
  }

  private get logger(): CentralServices["logger"] {
    return this.options.services.logger;
  }

  notify(body: ServerFrame["body"]): void {
    this.send(create(ServerFrameSchema, { requestId: 0n, body }));
  }

  close(reason: string): void {
    this.notify({
      case: "notification",
      value: create(NotificationSchema, {
        body: { case: "serverClosing", value: create(ServerClosingSchema, { reason }) },
      }),
    });
    this.framed.end();
  }

  destroy(): void {
    this.framed.destroy();
  }

  private send(frame: ServerFrame): void {
    if (this.framed.isClosed) return;
    this.framed.send(frame).catch(() => {
      // The socket closed meanwhile; the close handler cleans up.
    });
  }

  private enqueue(frame: ClientFrame): void {
    this.queued++;
    if (this.queued >= MAX_QUEUED_REQUESTS) this.options.socket.pause();
    this.queue = this.queue.then(async () => {
      await this.handle(frame);
      this.queued--;
      if (this.queued < MAX_QUEUED_REQUESTS / 2) this.options.socket.resume();
    });
  }

  /** Answers a protocol violation with an error and closes this connection. */
  private refuse(error: AlbumError): void {
    this.logger.warn(
      { connection: this.id, err: error.message },
      "protocol error, closing connection",
    );
    this.send(
      create(ServerFrameSchema, {
        requestId: 0n,
        body: { case: "error", value: errorToWire(error) },
      }),
    );
    this.framed.end();
  }

  private async handle(frame: ClientFrame): Promise<void> {
    const requestId = frame.requestId;
    const body = frame.body;
    if (!this.greeted) {
      if (body.case !== "hello") {
        this.refuse(
          new AlbumError(
            ErrorCode.FailedPrecondition,
            "the first frame must be a hello with the protocol version",
          ),
        );
        return;
      }
      if (body.value.protocolVersion !== CENTRAL_PROTOCOL_VERSION) {
        this.refuse(
          new AlbumError(
            ErrorCode.FailedPrecondition,
            `protocol version ${body.value.protocolVersion} is not supported; this server speaks version ${CENTRAL_PROTOCOL_VERSION}`,
          ),
        );
        return;
      }
      this.greeted = true;
      this.send(
        create(ServerFrameSchema, {
          requestId,
          body: {
            case: "hello",
            value: create(HelloReplySchema, {
              protocolVersion: CENTRAL_PROTOCOL_VERSION,
              serverAgent: "albumshare-central",
              idleTimeoutMs: this.options.idleTimeoutMs,
            }),
          },
        }),
      );
      return;
    }
    try {
      if (requestId === 0n)
        throw new AlbumError(ErrorCode.InvalidArgument, "request id 0 is reserved");
      if (body.case === undefined) {
        throw new AlbumError(
          ErrorCode.InvalidArgument,
          "unknown request type (is the client newer than the server?)",
        );
      }
      if (body.case === "hello")
        throw new AlbumError(ErrorCode.FailedPrecondition, "hello was already exchanged");
      const handler = this.options.handlers[body.case] as Handler<RequestCase> | undefined;
      if (!handler)
        throw new AlbumError(ErrorCode.InvalidArgument, `unsupported request type '${body.case}'`);
      const reply = await handler(body.value as never, {
        connection: this,
        services: this.options.services,
      });
      this.send(create(ServerFrameSchema, { requestId, body: reply }));
    } catch (thrown) {
      const error = AlbumError.from(thrown);
      if (error.code === ErrorCode.Internal) {
        this.logger.error({ connection: this.id, err: thrown }, "request failed");
      }
      this.send(
        create(ServerFrameSchema, {
          requestId,
          body: { case: "error", value: errorToWire(error) },
        }),
      );
    }
  }
}
