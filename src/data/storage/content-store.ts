// The content-addressable store of one data server: each content is a file
// named by its key (SHA-256, 64 lowercase hex digits) under
// `objects/<first two hex digits>/`. An upload is written aside under `tmp/`,
// fsynced, its SHA-256 checked against the key, and only then renamed into
// place and the directory fsynced, so no reader ever sees a partial or
// mismatched file and an acknowledged content survives a crash.
// It must never build a path from anything but a validated key, never expose
// a file before it is verified and durable, never hold a whole content in
// memory, and never leave a failed write behind (any error of the disk becomes
// the reply to that one upload; see disk-errors.ts). Folders are 0700 and
// files 0600 whatever the umask: a key is a capability. An upload whose
// stream is cut off leaves its bytes to partial-uploads.ts, from which the
// same key's next upload may resume; the whole content is verified then too.

import { createHash, randomBytes } from "node:crypto";
import { chmod, open, readdir, rename, rm, stat, statfs, unlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { AlbumError, ErrorCode, invalidArgument, notFound } from "../../common/album-error.ts";
import { CHUNK_SIZE } from "../../common/grpc/channel-options.ts";
import { isContentKey, parseContentKey, type ContentKey } from "../../ring/content-key.ts";
import { ensurePrivateDir, PRIVATE_FILE_MODE } from "../../common/private-files.ts";
import { storeFailure } from "./disk-errors.ts";
import { fsyncDirectory } from "./durable-fs.ts";
import { KeyMutex } from "./key-mutex.ts";
import {
  DEFAULT_PARTIAL_LIMITS,
  PartialUploads,
  type HeldPartial,
  type PartialLimits,
} from "./partial-uploads.ts";

export type WriteOutcome = "stored" | "already_present";

export interface StoredContent {
  key: ContentKey;
  size: number;
  /** Permission bits of its file. */
  mode: number;
}

export interface ContentRead {
  /** Size of the whole content. */
  size: number;
  /** The content from the requested offset, in chunks of at most CHUNK_SIZE. */
  chunks: AsyncIterable<Buffer>;
  /** Closes the file; needed only when `chunks` is not read to its end. */
  close(): Promise<void>;
}

export interface ContentStoreOptions {
  /** The server's data directory; the store uses `objects/` and `tmp/` in it. */
  dir: string;
  /**
   * Free space kept in reserve: an upload whose announced size does not fit
   * in the free space minus this is refused before a byte is written.
   */
  reserveBytes?: number;
  /** Opens the file an upload is written to (tests inject failing disks). */
  openForWrite?: (path: string) => Promise<FileHandle>;
  /** Bounds of the cut-off uploads kept for resuming. */
  partialLimits?: PartialLimits;
}

/** Free space kept by default: room for the system and for our own small files. */
export const DEFAULT_RESERVE_BYTES = 64 * 1024 * 1024;

const FAN_OUT = 256;

/** Shown in messages instead of a whole key (a key is a capability). */
export function shortKey(key: string): string {
  return `${key.slice(0, 12)}…`;
}

function fanOutDirName(index: number): string {
  return index.toString(16).padStart(2, "0");
}

async function openAside(path: string): Promise<FileHandle> {
  const handle = await open(path, "wx", PRIVATE_FILE_MODE);
  try {
    await handle.chmod(PRIVATE_FILE_MODE);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

export class ContentStore {
  private readonly objectsDir: string;
  private readonly tmpDir: string;
  private readonly dir: string;
  readonly reserveBytes: number;
  private readonly openForWrite: (path: string) => Promise<FileHandle>;
  private readonly commits = new KeyMutex();
  private readonly partials: PartialUploads;
  private keyCount = 0;
  private byteCount = 0;
  private opened = false;

  constructor(options: ContentStoreOptions) {
    this.dir = options.dir;
    this.objectsDir = join(options.dir, "objects");
    this.tmpDir = join(options.dir, "tmp");
    this.reserveBytes = options.reserveBytes ?? DEFAULT_RESERVE_BYTES;
    this.openForWrite = options.openForWrite ?? openAside;
    this.partials = new PartialUploads(
      options.dir,
      options.partialLimits ?? DEFAULT_PARTIAL_LIMITS,
    );
  }

  /**
   * Creates the layout, removes what a crash left under `tmp/` (never
   * acknowledged, so never needed) and counts the stored keys and bytes.
   * Returns the number of leftovers removed.
   */
  async open(): Promise<{ leftovers: number }> {
    ensurePrivateDir(this.dir);
    ensurePrivateDir(this.objectsDir);
    ensurePrivateDir(this.tmpDir);
    await this.partials.open();
    const leftovers = await readdir(this.tmpDir);
    for (const name of leftovers)
      await rm(join(this.tmpDir, name), { force: true, recursive: true });
    if (leftovers.length > 0) await fsyncDirectory(this.tmpDir);
    for (let i = 0; i < FAN_OUT; i++) ensurePrivateDir(join(this.objectsDir, fanOutDirName(i)));
    await fsyncDirectory(this.objectsDir);
    this.keyCount = 0;
    this.byteCount = 0;
    for await (const content of this.contents()) {
      this.keyCount++;
      this.byteCount += content.size;
      // Contents stored by an older version may be readable by others.
      if ((content.mode & 0o077) !== 0) await chmod(this.pathOf(content.key), PRIVATE_FILE_MODE);
    }
    this.opened = true;
    return { leftovers: leftovers.length };
  }

  /** Number of keys and bytes stored. */
  usage(): { keys: number; bytes: number } {
    return { keys: this.keyCount, bytes: this.byteCount };
  }

  private pathOf(key: ContentKey): string {
    // parseContentKey admits exactly 64 hex digits: no separator, no "..".
    const valid = parseContentKey(key);
    return join(this.objectsDir, valid.slice(0, 2), valid);
  }

  /** Size of the stored content, or undefined when the key is not stored. */
  async stat(key: ContentKey): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(key))).size;
    } catch (error) {
      if ((error as { code?: unknown }).code === "ENOENT") return undefined;
      throw AlbumError.from(error);
    }
  }

  /** The cut-off upload of `key` held for resuming, if any (never content). */
  heldPartial(key: ContentKey): Promise<HeldPartial | undefined> {
    return this.partials.held(parseContentKey(key));
  }

  /** Opens a stored content for reading from `offset`; NotFound when absent. */
  async read(key: ContentKey, offset = 0): Promise<ContentRead> {
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(key), "r");
    } catch (error) {
      if ((error as { code?: unknown }).code === "ENOENT") {
        throw notFound(`no content with key ${shortKey(key)}`);
      }
      throw AlbumError.from(error);
    }
    let size: number;
    try {
      size = (await handle.stat()).size;
    } catch (error) {
      await handle.close();
      throw AlbumError.from(error);
    }
    if (offset > size) {
      await handle.close();
      throw invalidArgument(`offset ${offset} is beyond the end of the content (${size} bytes)`);
    }
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      await handle.close();
    };
    return { size, chunks: readChunks(handle, offset, size, close), close };
  }

  /**
   * Stores the content announced as `key` and `size` from `chunks`. The bytes
   * go to a file aside; only a content of exactly `size` bytes hashing to
   * `key` is renamed into place. On any failure (bad size or hash, full disk,
   * cancelled stream) the file aside is removed and nothing is stored, except
   * that the bytes of a stream cut off are kept as the key's partial upload.
   * With `offset` > 0, `chunks` continue the partial of exactly `offset`
   * bytes held for the key (NotFound when there is none such); those bytes
   * are hashed again, so the whole content is verified against the key.
   */
  async write(
    key: ContentKey,
    size: number,
    chunks: AsyncIterable<Uint8Array>,
    offset = 0,
  ): Promise<WriteOutcome> {
    const valid = parseContentKey(key);
    if (!Number.isSafeInteger(size) || size < 0)
      throw invalidArgument(`invalid content size ${size}`);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > size)
      throw invalidArgument(`resume offset ${offset} is outside the content (${size} bytes)`);
    await this.checkFreeSpace(size - offset);
    const aside = join(
      this.tmpDir,
      `${valid}.${process.pid}.${randomBytes(6).toString("hex")}.part`,
    );
    let handle: FileHandle | undefined;
    const hash = createHash("sha256");
    let received = 0;
    let cut = false;
    let writeFailed = false;
    try {
      if (offset > 0) {
        if (!(await this.partials.take(valid, offset, aside)))
          throw notFound(
            `no partial upload of ${offset} bytes is held for ${shortKey(valid)}; send the whole content`,
          );
        handle = await open(aside, "r+");
        received = await hashPrefix(handle, hash, offset);
        if (received !== offset)
          throw new AlbumError(ErrorCode.Internal, "a partial upload is shorter than it was");
      } else {
        handle = await this.openForWrite(aside);
      }
      // One write in flight while the next chunk arrives and is hashed: the
      // disk, the network and the hash overlap, and at most one chunk waits.
      // Its failure is handled at once (never an unhandled rejection while we
      // wait for the network) and reported at the next chunk or at the end.
      let writing: Promise<void> = Promise.resolve();
      const iterator = chunks[Symbol.asyncIterator]();
      let ended = false;
      try {
        for (;;) {
          let step: IteratorResult<Uint8Array>;
          try {
            step = await iterator.next();
          } catch (error) {
            cut = true; // the stream broke: what arrived may be resumed
            throw error;
          }
          if (step.done === true) {
            ended = true;
            break;
          }
          const chunk = step.value;
          const position = received;
          received += chunk.byteLength;
          if (received > size) {
            throw invalidArgument(
              `received more than the ${size} bytes announced for ${shortKey(valid)}`,
            );
          }
          hash.update(chunk);
          await writing;
          writing = writeFully(handle, chunk, position);
          writing.catch(() => {
            writeFailed = true;
          });
        }
      } finally {
        if (!ended && !cut) await iterator.return?.().catch(() => undefined);
        // Never close the file under a write still running.
        await writing.catch(() => undefined);
      }
      await writing;
      if (received !== size) {
        throw invalidArgument(
          `the content of ${shortKey(valid)} ended after ${received} of the ${size} bytes announced`,
        );
      }
      const digest = hash.digest("hex");
      if (digest !== valid) {
        cut = false; // never keep bytes that do not make the content
        throw invalidArgument(
          `the content does not hash to its key ${shortKey(valid)} (its SHA-256 starts ${digest.slice(0, 12)}); nothing stored`,
        );
      }
      await handle.sync();
      await handle.close();
      handle = undefined;
      const outcome = await this.commit(valid, aside, size);
      await this.partials.drop(valid).catch(() => undefined);
      return outcome;
    } catch (error) {
      if (handle) await handle.close().catch(() => undefined);
      if (cut && !writeFailed && received > 0 && received < size) {
        const kept = await this.partials
          .keep(valid, hash.copy().digest("hex"), aside)
          .then(() => true)
          .catch(() => false);
        if (kept) throw storeFailure(error, shortKey(valid));
      }
      // A failing disk may refuse the removal too; the file aside is then
      // removed when the server next starts (never read before).
      await rm(aside, { force: true }).catch(() => undefined);
      throw storeFailure(error, shortKey(valid));
    }
  }

  // Rename under the key's mutex so concurrent uploads of one key count it
  // once; a content already in place wins and the copy aside is dropped.
  private async commit(key: ContentKey, aside: string, size: number): Promise<WriteOutcome> {
    return this.commits.run(key, async () => {
      const target = this.pathOf(key);
      if ((await this.stat(key)) !== undefined) {
        await rm(aside, { force: true });
        return "already_present";
      }
      await rename(aside, target);
      await fsyncDirectory(join(this.objectsDir, key.slice(0, 2)));
      this.keyCount++;
      this.byteCount += size;
      return "stored";
    });
  }

  /** Deletes a content; returns its size, or undefined when it was not stored. */
  async delete(key: ContentKey): Promise<number | undefined> {
    return this.commits.run(key, async () => {
      const size = await this.stat(key);
      if (size === undefined) return undefined;
      await unlink(this.pathOf(key));
      await fsyncDirectory(join(this.objectsDir, key.slice(0, 2)));
      this.keyCount--;
      this.byteCount -= size;
      return size;
    });
  }

  /** Every stored content (for hand-over and usage; never exposed to clients). */
  async *contents(): AsyncGenerator<StoredContent> {
    for (let i = 0; i < FAN_OUT; i++) {
      const dir = join(this.objectsDir, fanOutDirName(i));
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (error) {
        if ((error as { code?: unknown }).code === "ENOENT") continue;
        throw AlbumError.from(error);
      }
      for (const name of names) {
        if (!isContentKey(name) || !name.startsWith(fanOutDirName(i))) continue;
        let info;
        try {
          info = await stat(join(dir, name));
        } catch (error) {
          if ((error as { code?: unknown }).code === "ENOENT") continue;
          throw AlbumError.from(error);
        }
        yield { key: name, size: info.size, mode: info.mode & 0o777 };
      }
    }
  }

  /** Free bytes on the store's file system, and how many of them uploads may use. */
  async space(): Promise<{ freeBytes: number; storableBytes: number }> {
    const space = await statfs(this.dir);
    const freeBytes = space.bavail * space.bsize;
    return { freeBytes, storableBytes: Math.max(0, freeBytes - this.reserveBytes) };
  }

  private async checkFreeSpace(size: number): Promise<void> {
    if (!this.opened) throw new AlbumError(ErrorCode.Unavailable, "the content store is not open");
    const { freeBytes, storableBytes } = await this.space().catch((error: unknown) => {
      throw storeFailure(error, "the content");
    });
    if (size > storableBytes) {
      throw new AlbumError(
        ErrorCode.ResourceExhausted,
        `the data server's disk has ${freeBytes} bytes free and keeps ${this.reserveBytes} in reserve, not enough for ${size} bytes; nothing stored`,
      );
    }
  }
}

async function writeFully(handle: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < chunk.byteLength) {
    const { bytesWritten } = await handle.write(
      chunk,
      written,
      chunk.byteLength - written,
      position + written,
    );
    written += bytesWritten;
  }
}

// Hashes the first `length` bytes of a resumed partial; returns the bytes read.
async function hashPrefix(
  handle: FileHandle,
  hash: ReturnType<typeof createHash>,
  length: number,
): Promise<number> {
  const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK_SIZE, length - done), done);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    done += bytesRead;
  }
  return done;
}

// Reads in fresh buffers (each chunk is handed to gRPC and may outlive the
// next read), one at a time: the consumer's pace is the reader's pace.
async function* readChunks(
  handle: FileHandle,
  offset: number,
  size: number,
  close: () => Promise<void>,
): AsyncGenerator<Buffer> {
  try {
    let position = offset;
    while (position < size) {
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK_SIZE, size - position));
      const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, position);
      if (bytesRead === 0) {
        throw new AlbumError(ErrorCode.Internal, "a stored content is shorter than its size");
      }
      position += bytesRead;
      yield bytesRead === buffer.byteLength ? buffer : buffer.subarray(0, bytesRead);
    }
  } finally {
    await close();
  }
}
