// Adapter from a Node TCP socket to a stream of typed protobuf messages:
// frames are decoded with a size limit, each frame is parsed with the given
// schema, and sends wait for 'drain' so a slow peer applies backpressure
// instead of growing our memory. It never interprets the messages.
import type { Socket } from "node:net";
import { fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, encodeFrame } from "./frame-decoder.ts";

export interface FramedSocketHandlers<In> {
  message(message: In): void;
  /** A protocol violation: undecodable frame or oversized length prefix. */
  protocolError(error: AlbumError): void;
  close(): void;
}

export class FramedSocket<InDesc extends DescMessage, OutDesc extends DescMessage> {
  private readonly decoder: FrameDecoder;
  private closed = false;

  constructor(
    readonly socket: Socket,
    private readonly inSchema: InDesc,
    private readonly outSchema: OutDesc,
    handlers: FramedSocketHandlers<MessageShape<InDesc>>,
    private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      if (this.closed) return;
      let frames: Uint8Array[];
      try {
        frames = this.decoder.push(chunk);
      } catch (error) {
        handlers.protocolError(AlbumError.from(error, ErrorCode.InvalidArgument));
        return;
      }
      for (const frame of frames) {
        if (this.closed) return;
        let message: MessageShape<InDesc>;
        try {
          message = fromBinary(this.inSchema, frame);
        } catch (error) {
          handlers.protocolError(
            new AlbumError(
              ErrorCode.InvalidArgument,
              "received a frame that is not a valid message",
              {
                cause: error,
              },
            ),
          );
          return;
        }
        handlers.message(message);
      }
    });
    socket.on("error", () => {
      // 'close' follows every 'error'; the owner learns of the loss there.
    });
    socket.on("close", () => {
      this.closed = true;
      handlers.close();
    });
  }

  get isClosed(): boolean {
    return this.closed || this.socket.destroyed;
  }

  /** Sends one message; resolves once the socket accepted it without overfilling. */
  async send(message: MessageShape<OutDesc>): Promise<void> {
    if (this.isClosed) throw new AlbumError(ErrorCode.Unavailable, "the connection is closed");
    const frame = encodeFrame(toBinary(this.outSchema, message), this.maxFrameBytes);
    if (this.socket.write(frame)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off("drain", done);
        this.socket.off("close", done);
        resolve();
      };
      this.socket.on("drain", done);
      this.socket.on("close", done);
    });
  }

  /** Flushes what was written, then closes. */
  end(): void {
    this.closed = true;
    this.socket.end();
    // A peer that never reads must not keep the socket forever.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }
}
