// What an upload reads: the file itself when the file system knows its size,
// or, for pseudo-files that report 0 bytes but have content (procfs entries
// such as /proc/self/environ), a private copy read to its end, so the stored
// content is what was actually read and never an empty file by mistake.
// Anything that is not a regular file (FIFO, device, socket, folder) is
// refused with one line naming it. Must never change the file it reads.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AlbumError, ErrorCode, invalidArgument } from "../../common/album-error.ts";

/** A pseudo-file larger than this is refused rather than copied (procfs entries are small). */
export const MAX_PSEUDO_FILE_BYTES = 64 * 1024 * 1024;

export interface UploadSource {
  /** The path to hash and send (the file itself, or a private copy). */
  path: string;
  size: number;
  /** Removes a private copy; a no-op for the file itself. */
  release(): Promise<void>;
}

export async function uploadSource(path: string): Promise<UploadSource> {
  const info = await stat(path).catch((error: unknown) => {
    throw AlbumError.from(error);
  });
  if (!info.isFile()) throw invalidArgument(`${path} is not a regular file (${kindOf(info)})`);
  const itself: UploadSource = { path, size: info.size, release: () => Promise.resolve() };
  if (info.size > 0 || !(await hasContent(path))) return itself;
  return copyToEnd(path);
}

function kindOf(info: Awaited<ReturnType<typeof stat>>): string {
  if (info.isDirectory()) return "a folder";
  if (info.isFIFO()) return "a FIFO";
  if (info.isCharacterDevice() || info.isBlockDevice()) return "a device";
  if (info.isSocket()) return "a socket";
  return "not a plain file";
}

async function hasContent(path: string): Promise<boolean> {
  const handle = await open(path, "r");
  try {
    const { bytesRead } = await handle.read(Buffer.alloc(1), 0, 1, 0);
    return bytesRead > 0;
  } finally {
    await handle.close();
  }
}

async function copyToEnd(path: string): Promise<UploadSource> {
  const folder = await mkdtemp(join(tmpdir(), "albumshare-upload-"));
  const copy = join(folder, basename(path) || "content");
  const release = (): Promise<void> => rm(folder, { recursive: true, force: true });
  let size = 0;
  const bounded = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.byteLength;
      if (size > MAX_PSEUDO_FILE_BYTES) {
        done(
          new AlbumError(
            ErrorCode.FailedPrecondition,
            `${path} reports no size and holds more than ${MAX_PSEUDO_FILE_BYTES} bytes; copy it to a regular file first`,
          ),
        );
      } else done(null, chunk);
    },
  });
  try {
    await pipeline(createReadStream(path), bounded, createWriteStream(copy, { mode: 0o600 }));
  } catch (error) {
    await release();
    throw AlbumError.from(error);
  }
  return { path: copy, size, release };
}
