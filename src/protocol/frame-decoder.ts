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
  private readonly maxFrameBytes: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private expectedBytes = -1;

  constructor(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received but not yet returned as a frame. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.byteLength > 0) {
      this.pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.pendingBytes += chunk.byteLength;
    }
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.expectedBytes < 0) {
        if (this.pendingBytes < FRAME_HEADER_BYTES) break;
        const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
        if (length > this.maxFrameBytes) {
          throw new AlbumError(
            ErrorCode.ResourceExhausted,
            `frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes} bytes`,
          );
        }
        this.expectedBytes = length;
      }
      if (this.pendingBytes < this.expectedBytes) break;
      frames.push(this.take(this.expectedBytes));
      this.expectedBytes = -1;
    }
    return frames;
  }

  private take(count: number): Buffer {
    if (count === 0) return Buffer.alloc(0);
    const first = this.pending[0]!;
    if (first.byteLength >= count) {
      const head = first.subarray(0, count);
      if (first.byteLength === count) this.pending.shift();
      else this.pending[0] = first.subarray(count);
      this.pendingBytes -= count;
      return head;
    }
    const out = Buffer.allocUnsafe(count);
    let filled = 0;
    while (filled < count) {
      const piece = this.pending[0]!;
      const needed = count - filled;
      if (piece.byteLength <= needed) {
        out.set(piece, filled);
        filled += piece.byteLength;
        this.pending.shift();
      } else {
        out.set(piece.subarray(0, needed), filled);
        this.pending[0] = piece.subarray(needed);
        filled += needed;
      }
    }
    this.pendingBytes -= count;
    return out;
  }
}
