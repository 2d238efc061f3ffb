// Length-prefixed framing for the central TCP protocol: a 4-byte big-endian
// length, then that many bytes of one protobuf message. The length is checked
// against the limit *before* any buffer for the frame is allocated, so a peer
// cannot make us reserve memory by announcing a huge frame.

import { AlbumError, ErrorCode } from "../common/album-error.ts";

export const FRAME_HEADER_BYTES = 4;
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Prepends the length prefix to one encoded message. */
export function encodeFrame(message: Uint8Array, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Buffer {
  if (message.byteLength > maxFrameBytes) {
    throw new AlbumError(
      ErrorCode.ResourceExhausted,
      `frame of ${message.byteLength} bytes exceeds the limit of ${maxFrameBytes} bytes`,
    );
  }
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.byteLength);
  frame.writeUInt32BE(message.byteLength, 0);
  frame.set(message, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Incremental decoder: feed it whatever the socket delivered, get back every
 * complete frame. Handles frames split across reads and many frames per read.
 * After an oversized prefix it throws and must not be used again (the
 * connection is out of sync and has to be closed).
 */
export class FrameDecoder {
  private maxFrameBytes: number;
  private limitContext = "";
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private expectedBytes = -1;

  constructor(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /**
   * Changes the limit for the frames whose length prefix is read from now on
   * (a frame already announced keeps the limit it was checked against).
   * `context` ends the refusal, e.g. "before login".
   */
  setLimit(maxFrameBytes: number, context = ""): void {
    this.maxFrameBytes = maxFrameBytes;
    this.limitContext = context;
  }

  get limit(): number {
    return this.maxFrameBytes;
  }

  /** Bytes received but not yet returned as a frame. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const input = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const frames: Uint8Array[] = [];
    let offset = 0;
    // 1. Finish the frame a previous chunk started (the only case that copies).
    if (this.expectedBytes >= 0 || this.pendingBytes > 0) {
      if (this.expectedBytes < 0) {
        const headerRest = FRAME_HEADER_BYTES - this.pendingBytes;
        if (input.byteLength < headerRest) {
          this.stash(input);
          return frames;
        }
        this.stash(input.subarray(0, headerRest));
        offset = headerRest;
        this.expectedBytes = this.checkedLength(this.drain().readUInt32BE(0));
      }
      const bodyRest = this.expectedBytes - this.pendingBytes;
      if (input.byteLength - offset < bodyRest) {
        this.stash(input.subarray(offset));
        return frames;
      }
      this.stash(input.subarray(offset, offset + bodyRest));
      offset += bodyRest;
      frames.push(this.drain());
      this.expectedBytes = -1;
    }
    // 2. Whole frames straight out of the chunk: views, no copies.
    while (input.byteLength - offset >= FRAME_HEADER_BYTES) {
      const length = this.checkedLength(input.readUInt32BE(offset));
      const end = offset + FRAME_HEADER_BYTES + length;
      if (end > input.byteLength) {
        this.expectedBytes = length;
        offset += FRAME_HEADER_BYTES;
        break;
      }
      frames.push(input.subarray(offset + FRAME_HEADER_BYTES, end));
      offset = end;
    }
    // 3. Keep the start of the next frame for the next chunk.
    if (offset < input.byteLength) this.stash(input.subarray(offset));
    return frames;
  }

  private checkedLength(length: number): number {
    if (length > this.maxFrameBytes) {
      throw new AlbumError(
        ErrorCode.ResourceExhausted,
        `frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes} bytes${this.limitContext ? ` ${this.limitContext}` : ""}`,
      );
    }
    return length;
  }

  private stash(piece: Buffer): void {
    if (piece.byteLength === 0) return;
    this.pending.push(piece);
    this.pendingBytes += piece.byteLength;
  }

  /** Everything stashed, as one buffer; empties the stash. */
  private drain(): Buffer {
    const whole =
      this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return whole;
  }
}
