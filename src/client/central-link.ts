// One TCP connection to the central server: connect, the hello exchange,
// requests matched to their replies by id (each with a timeout), pushed
// frames handed up, keep-alive pings. CentralClient owns one at a time and
// replaces it when it reconnects. It never retries anything itself and never
// prints.
import { create } from "@bufbuild/protobuf";
import { connect as connectTcp } from "node:net";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { formatHostPort, parseHostPort } from "../common/host-port.ts";
import {
  ClientFrameSchema,
  HelloSchema,
  PingSchema,
  ServerFrameSchema,
  type ClientFrame,
  type Notification,
  type ServerFrame,
} from "../gen/albumshare/central/v1/central_pb.ts";
import { FramedSocket } from "../protocol/framed-socket.ts";
import { CENTRAL_PROTOCOL_VERSION, DEFAULT_CENTRAL_PORT } from "../protocol/version.ts";
import { errorFromWire } from "../protocol/wire-error.ts";

export type RequestBody = ClientFrame["body"];

export interface CentralLinkOptions {
  /** host:port of the central server. */
  address: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  onNotification(notification: Notification): void;
  /** The connection ended (by either side); every pending request has been failed. */
  onClose(): void;
}

interface Pending {
  resolve(frame: ServerFrame): void;
  reject(error: AlbumError): void;
  timer: NodeJS.Timeout;
}

export class CentralLink {
  readonly address: string;
  readonly #framed: FramedSocket<typeof ServerFrameSchema, typeof ClientFrameSchema>;
  readonly #pending = new Map<bigint, Pending>();
  readonly #options: CentralLinkOptions;
  #nextRequestId = 1n;
  #pingTimer: NodeJS.Timeout | undefined;
  #closedError: AlbumError | undefined;

  private constructor(
    address: string,
    options: CentralLinkOptions,
    makeFramed: (
      link: CentralLink,
    ) => FramedSocket<typeof ServerFrameSchema, typeof ClientFrameSchema>,
  ) {
    this.address = address;
    this.#options = options;
    this.#framed = makeFramed(this);
  }

  /** Connects and exchanges hellos; rejects with Unavailable naming the address tried. */
  static async open(options: CentralLinkOptions): Promise<CentralLink> {
    const target = parseHostPort(options.address, DEFAULT_CENTRAL_PORT);
    const address = formatHostPort(target);
    const socket = connectTcp({ host: target.host, port: target.port });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new AlbumError(ErrorCode.Unavailable, `central server at ${address} did not answer`),
        );
      }, options.connectTimeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(
          new AlbumError(
            ErrorCode.Unavailable,
            `cannot reach the central server at ${address} (${(error as NodeJS.ErrnoException).code ?? error.message})`,
            { cause: error },
          ),
        );
      });
    });
    const link = new CentralLink(
      address,
      options,
      (self) =>
        new FramedSocket(socket, ServerFrameSchema, ClientFrameSchema, {
          message: (frame) => self.#receive(frame),
          protocolError: (error) => {
            self.#failAll(error);
            self.#framed.destroy();
          },
          close: () => self.#onClosed(),
        }),
    );
    try {
      const hello = await link.send({
        case: "hello",
        value: create(HelloSchema, {
          protocolVersion: CENTRAL_PROTOCOL_VERSION,
          agent: "albumshare-client",
        }),
      });
      if (hello.body.case !== "hello") {
        throw new AlbumError(ErrorCode.Internal, "the server did not answer the hello");
      }
      link.#startPings(hello.body.value.idleTimeoutMs || 30_000);
    } catch (error) {
      link.destroy();
      throw AlbumError.from(error, ErrorCode.Unavailable);
    }
    return link;
  }

  get isClosed(): boolean {
    return this.#framed.isClosed;
  }

  /** Sends a request; resolves with the reply frame, rejects with its error (or Unavailable). */
  send(body: RequestBody): Promise<ServerFrame> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    const requestId = this.#nextRequestId++;
    const frame = create(ClientFrameSchema, { requestId, body });
    return new Promise<ServerFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(
          new AlbumError(
            ErrorCode.Unavailable,
            `the central server at ${this.address} did not answer in time`,
          ),
        );
      }, this.#options.requestTimeoutMs);
      this.#pending.set(requestId, { resolve, reject, timer });
      this.#framed.send(frame).catch((error: unknown) => {
        clearTimeout(timer);
        this.#pending.delete(requestId);
        reject(AlbumError.from(error, ErrorCode.Unavailable));
      });
    });
  }

  /** Ends the connection after what was queued is sent. */
  end(): void {
    this.#stopPings();
    this.#framed.end();
  }

  /** Cuts the connection at once. */
  destroy(): void {
    this.#stopPings();
    this.#framed.destroy();
  }

  #startPings(idleTimeoutMs: number): void {
    this.#pingTimer = setInterval(
      () => {
        this.send({ case: "ping", value: create(PingSchema) }).catch(() => {});
      },
      Math.max(500, Math.floor(idleTimeoutMs / 3)),
    );
    this.#pingTimer.unref();
  }

  #stopPings(): void {
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
  }

  #receive(frame: ServerFrame): void {
    if (frame.requestId === 0n) {
      if (frame.body.case === "notification") this.#options.onNotification(frame.body.value);
      else if (frame.body.case === "error") this.#failAll(errorFromWire(frame.body.value));
      return;
    }
    const pending = this.#pending.get(frame.requestId);
    if (!pending) return;
    this.#pending.delete(frame.requestId);
    clearTimeout(pending.timer);
    if (frame.body.case === "error") pending.reject(errorFromWire(frame.body.value));
    else pending.resolve(frame);
  }

  #failAll(error: AlbumError): void {
    this.#closedError ??= error;
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.#pending.delete(id);
    }
  }

  #onClosed(): void {
    this.#stopPings();
    this.#failAll(
      new AlbumError(
        ErrorCode.Unavailable,
        `lost the connection to the central server at ${this.address}`,
      ),
    );
    this.#options.onClose();
  }
}
