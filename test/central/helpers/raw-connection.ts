// A raw TCP connection to the central server for tests that misbehave on
// purpose: it writes whatever bytes the test gives, records every server frame
// and the close, and can come from another loopback source address
// (127.0.0.2, ...) so per-address rules can be exercised.
import { connect, type Socket } from "node:net";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { encodeFrame, FrameDecoder } from "../../../src/protocol/frame-decoder.ts";
import {
  ClientFrameSchema,
  ServerFrameSchema,
  type ServerFrame,
} from "../../../src/gen/albumshare/central/v1/central_pb.ts";

/** What a raw connection saw: the frames the server sent and whether it closed. */
export interface Outcome {
  frames: ServerFrame[];
  closed: boolean;
}

/** A raw TCP connection that records every server frame and the close. */
export class RawConnection {
  readonly socket: Socket;
  readonly frames: ServerFrame[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder();
  private listeners: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk))
        this.frames.push(fromBinary(ServerFrameSchema, frame));
      this.wake();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(port: number, localAddress?: string): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: "127.0.0.1",
        port,
        ...(localAddress ? { localAddress } : {}),
      });
      socket.once("connect", () => resolve(new RawConnection(socket)));
      socket.once("error", reject);
    });
  }

  private wake(): void {
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }

  /** Resolves when `done` holds; fails the test if it never does. */
  async until(done: () => boolean, what: string, timeoutMs = 10_000): Promise<Outcome> {
    const started = Date.now();
    while (!done()) {
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.listeners.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return { frames: this.frames, closed: this.closed };
  }

  /** Waits for an error frame or the close, whichever comes first. */
  errorOrClose(from = 0): Promise<Outcome> {
    return this.until(
      () => this.closed || this.frames.slice(from).some((f) => f.body.case === "error"),
      "an error frame or the close",
    );
  }

  write(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Sends one well-formed request frame. */
  request(requestId: bigint, body: MessageInitShape<typeof ClientFrameSchema>["body"]): void {
    this.write(
      encodeFrame(toBinary(ClientFrameSchema, create(ClientFrameSchema, { requestId, body }))),
    );
  }

  /** Sends a request and waits for the frame answering it (or the close). */
  async call(
    requestId: bigint,
    body: MessageInitShape<typeof ClientFrameSchema>["body"],
    timeoutMs = 60_000,
  ): Promise<ServerFrame | undefined> {
    this.request(requestId, body);
    await this.until(
      () => this.closed || this.frames.some((f) => f.requestId === requestId),
      `the answer to request ${requestId}`,
      timeoutMs,
    );
    return this.frames.find((f) => f.requestId === requestId);
  }

  /** hello, then login; resolves with the login answer. */
  async greetAndLogin(name: string, password: string): Promise<ServerFrame | undefined> {
    const hello = await this.call(1n, {
      case: "hello",
      value: { protocolVersion: 1, agent: "test" },
    });
    if (hello?.body.case !== "hello") return hello;
    return this.call(2n, { case: "login", value: { name, password } });
  }

  destroy(): void {
    this.socket.destroy();
  }
}
