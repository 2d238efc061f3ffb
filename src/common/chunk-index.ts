// The chunk index of a content: the SHA-256 of each CHUNK_INDEX_BYTES block
// of it, in order, 32 bytes each (the last block may be shorter). The index is
// stored on the data servers like any content, and its key is recorded in the
// file entry (FileMedia.chunk_index_key), so a reader that verified the index
// by its key can verify any block of the content on its own: a range of a
// video is served as soon as the blocks it needs are checked, instead of after
// the whole file. ChunkVerifier is pure: bytes in, verified bytes out; it must
// never return a byte of a block it has not checked.
import { createHash } from "node:crypto";
import { AlbumError, ErrorCode } from "./album-error.ts";

/** Block size of a chunk index (fixed: it is part of what the index means). */
export const CHUNK_INDEX_BYTES = 1024 * 1024;

/** Number of blocks of a content of `size` bytes. */
export function chunkCount(size: number): number {
  return Math.ceil(size / CHUNK_INDEX_BYTES);
}

/** Checks that `index` is a chunk index of a content of `size` bytes (by its length). */
export function checkChunkIndex(index: Uint8Array, size: number): void {
  if (index.length !== chunkCount(size) * 32) {
    throw new AlbumError(
      ErrorCode.InvalidArgument,
      "the chunk index does not match the size of the content",
    );
  }
}

/**
 * Verifies a content streamed from `offset` (a block boundary) block by block
 * against its index, and hands out only the bytes of [start, end] (inclusive)
 * of verified blocks. A block that does not match throws before any of its
 * bytes are handed out.
 */
export class ChunkVerifier {
  readonly #index: Uint8Array;
  readonly #size: number;
  readonly #start: number;
  readonly #end: number;
  #block: number;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;

  constructor(index: Uint8Array, size: number, start: number, end: number) {
    checkChunkIndex(index, size);
    if (!(start >= 0 && start <= end && end < size)) {
      throw new AlbumError(ErrorCode.InvalidArgument, "the range is outside the content");
    }
    this.#index = index;
    this.#size = size;
    this.#start = start;
    this.#end = end;
    this.#block = Math.floor(start / CHUNK_INDEX_BYTES);
  }

  /** Where the stream must start: the first byte of the block holding `start`. */
  get offset(): number {
    return Math.floor(this.#start / CHUNK_INDEX_BYTES) * CHUNK_INDEX_BYTES;
  }

  /** True once every byte of the range was handed out. */
  get done(): boolean {
    return this.#block * CHUNK_INDEX_BYTES > this.#end;
  }

  /** Takes the next streamed bytes; returns the verified bytes of the range they complete. */
  push(bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let rest = bytes;
    while (rest.length > 0 && !this.done) {
      const wanted = this.#blockLength(this.#block) - this.#pendingBytes;
      const take = rest.subarray(0, wanted);
      rest = rest.subarray(take.length);
      this.#pending.push(take);
      this.#pendingBytes += take.length;
      if (this.#pendingBytes === this.#blockLength(this.#block)) out.push(...this.#verify());
    }
    return out;
  }

  /** The stream ended: an unfinished range is an error (nothing unverified was handed out). */
  finish(): void {
    if (!this.done) {
      throw new AlbumError(ErrorCode.Unavailable, "the content stream ended before the range");
    }
  }

  #blockLength(block: number): number {
    return Math.min(CHUNK_INDEX_BYTES, this.#size - block * CHUNK_INDEX_BYTES);
  }

  #verify(): Uint8Array[] {
    const hash = createHash("sha256");
    for (const part of this.#pending) hash.update(part);
    const expected = this.#index.subarray(this.#block * 32, this.#block * 32 + 32);
    if (!Buffer.from(hash.digest()).equals(expected)) {
      throw new AlbumError(
        ErrorCode.Internal,
        "a block of the content does not match its chunk index; nothing of it was served",
      );
    }
    const blockStart = this.#block * CHUNK_INDEX_BYTES;
    const from = Math.max(this.#start, blockStart) - blockStart;
    const to = Math.min(this.#end + 1, blockStart + this.#pendingBytes) - blockStart;
    const block = Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#block++;
    return [block.subarray(from, to)];
  }
}
