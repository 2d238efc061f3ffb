// Adapter from a Node TCP socket to a stream of typed protobuf messages:
// frames are decoded with a size limit (which the owner may change, e.g. small
// until a login), bytes held in partial frames (and in a large frame being
// parsed) count against a shared budget,
// large frames are parsed off the event loop, each frame is parsed with the
// given schema, and sends wait for 'drain' so a slow peer applies backpressure
// instead of growing our memory. It never interprets the messages.
import type { Socket } from "node:net";
import { fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import type { BufferBudget } from "./buffer-budget.ts";
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, encodeFrame } from "./frame-decoder.ts";

export interface FramedSocketHandlers<In> {
  message(message: In): void;
  /** A whole frame arrived (called before it is parsed): the peer made progress. */
  frameReceived?(): void;
  /** A protocol violation: undecodable frame, oversized length prefix, budget refused. */
  protocolError(error: AlbumError): void;
  close(): void;
}

export interface FramedSocketOptions {
  /** Largest frame sent, and received until changed by setReceiveLimit. */
  maxFrameBytes: number;
  /** Server-wide cap on bytes held in partial frames, shared by connections. */
  budget?: BufferBudget;
  /**
   * Parses frames of at least `minBytes` off the event loop (a worker), so a
   * crafted large frame, whose decoding may take long, never stalls others.
   */
  largeFrames?: { minBytes: number; parse(frame: Uint8Array): Promise<Uint8Array> };
}

export class FramedSocket<InDesc extends DescMessage, OutDesc extends DescMessage> {
  private readonly decoder: FrameDecoder;
  private readonly options: FramedSocketOptions;
  private readonly handlers: FramedSocketHandlers<MessageShape<InDesc>>;
  private closed = false;
  /** Frames waiting behind a large frame being parsed off the event loop. */
  private waiting: Uint8Array[] = [];
  private parsingLarge = false;
  /** Bytes of the large frame being parsed, held in the budget until it is done. */
  private largeBytes = 0;

  constructor(
    readonly socket: Socket,
    private readonly inSchema: InDesc,
    private readonly outSchema: OutDesc,
    handlers: FramedSocketHandlers<MessageShape<InDesc>>,
    options: number | FramedSocketOptions = DEFAULT_MAX_FRAME_BYTES,
  ) {
    this.options = typeof options === "number" ? { maxFrameBytes: options } : options;
    this.handlers = handlers;
    this.decoder = new FrameDecoder(this.options.maxFrameBytes);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", () => {
      // 'close' follows every 'error'; the owner learns of the loss there.
    });
    socket.on("close", () => {
      this.closed = true;
      this.waiting = [];
      this.options.budget?.release(this);
      handlers.close();
    });
  }

  /** Sets the frame limit from the next length prefix on, e.g. once logged in. */
  setReceiveLimit(maxFrameBytes: number, context = ""): void {
    this.decoder.setLimit(maxFrameBytes, context);
  }

  get receiveLimit(): number {
    return this.decoder.limit;
  }

  /** Frames received but not yet handed over (a large one being parsed, those behind it). */
  get parsing(): boolean {
    return this.parsingLarge || this.waiting.length > 0;
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    // Reserved before the bytes are kept: the cap holds at every instant.
    if (!this.reserve(this.heldBytes() + chunk.byteLength)) return;
    let frames: Uint8Array[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      this.fail(AlbumError.from(error, ErrorCode.InvalidArgument));
      return;
    }
    if (frames.length > 0) this.handlers.frameReceived?.();
    this.waiting.push(...frames);
    // Never more than reserved above: small frames are handed over at once,
    // a large one stays counted (below) until it is parsed.
    this.options.budget?.set(this, this.heldBytes());
    this.deliver();
  }

  /** Parses and hands over waiting frames in order, pausing behind a large one. */
  private deliver(): void {
    const large = this.options.largeFrames;
    while (!this.closed && !this.parsingLarge && this.waiting.length > 0) {
      const frame = this.waiting.shift()!;
      if (large && frame.byteLength >= large.minBytes) {
        // The frame (and its copy in the worker) stays counted until parsed:
        // many large frames waiting for the worker must not pass the cap.
        this.largeBytes = frame.byteLength;
        this.parsingLarge = true;
        // Nothing more is read meanwhile: the worker's pace is this peer's pace.
        this.socket.pause();
        large.parse(frame).then(
          (clean) => {
            this.parsingLarge = false;
            this.largeBytes = 0;
            if (this.closed) return;
            this.options.budget?.set(this, this.heldBytes());
            this.socket.resume();
            if (this.parse(clean)) this.deliver();
          },
          (error: unknown) => {
            this.parsingLarge = false;
            this.largeBytes = 0;
            this.fail(invalidFrame(error));
          },
        );
        return;
      }
      if (!this.parse(frame)) return;
    }
  }

  /** Parses one frame and hands it over; false (connection failed) if invalid. */
  private parse(frame: Uint8Array): boolean {
    let message: MessageShape<InDesc>;
    try {
      // Unknown fields are skipped, not kept: a frame of millions of them
      // must not become millions of objects.
      message = fromBinary(this.inSchema, frame, { readUnknownFields: false });
    } catch (error) {
      this.fail(invalidFrame(error));
      return false;
    }
    this.handlers.message(message);
    return !this.closed;
  }

  /** Bytes this connection holds: its partial frame and large frames not yet parsed. */
  private heldBytes(): number {
    let bytes = this.decoder.bufferedBytes + this.largeBytes;
    const minBytes = this.options.largeFrames?.minBytes;
    if (minBytes !== undefined) {
      for (const frame of this.waiting) if (frame.byteLength >= minBytes) bytes += frame.byteLength;
    }
    return bytes;
  }

  /** Declares `bytes` held; on refusal fails the connection and returns false. */
  private reserve(bytes: number): boolean {
    const budget = this.options.budget;
    if (!budget || budget.set(this, bytes)) return true;
    this.fail(
      new AlbumError(
        ErrorCode.ResourceExhausted,
        `the server already holds its limit of ${budget.capBytes} bytes of partial frames; try again later`,
      ),
    );
    return false;
  }

  private fail(error: AlbumError): void {
    if (this.closed) return;
    this.waiting = [];
    this.options.budget?.release(this);
    this.handlers.protocolError(error);
  }

  get isClosed(): boolean {
    return this.closed || this.socket.destroyed;
  }

  /** Sends one message; resolves once the socket accepted it without overfilling. */
  async send(message: MessageShape<OutDesc>): Promise<void> {
    if (this.isClosed) throw new AlbumError(ErrorCode.Unavailable, "the connection is closed");
    const frame = encodeFrame(toBinary(this.outSchema, message), this.options.maxFrameBytes);
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

function invalidFrame(cause: unknown): AlbumError {
  return new AlbumError(ErrorCode.InvalidArgument, "received a frame that is not a valid message", {
    cause,
  });
}
