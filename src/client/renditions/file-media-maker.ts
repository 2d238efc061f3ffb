// Decides what a newly added file records for the web app (its FileMedia):
// images get a thumbnail and a preview, stored on the data servers like any
// content; a video gets them from a poster frame when the adder supplies one
// (a browser draws it from the video itself), and is a video tile otherwise;
// anything else is a file tile. A video larger than one block also gets a
// chunk index (common/chunk-index.ts), so a page can play any part of it as
// soon as that part is verified. A rendition or index that cannot be made
// never fails the add: the file is then recorded without it. Never reports a
// key.
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "../../common/logger.ts";
import type { FileMedia, MediaKind } from "../../crdt/index.ts";
import type { ContentTransfer } from "../session/content-transfer.ts";
import { CHUNK_INDEX_BYTES } from "../../common/chunk-index.ts";
import { chunkIndexOfFile } from "./chunk-index-file.ts";
import { makeImageRenditions, type ImageRenditions } from "./image-renditions.ts";

const IMAGE_EXTENSIONS = new Set([
  "jpg",
  "jpeg",
  "png",
  "gif",
  "webp",
  "avif",
  "tif",
  "tiff",
  "heic",
  "heif",
]);
const VIDEO_EXTENSIONS = new Set(["mp4", "m4v", "webm", "mov", "ogv", "mkv", "avi"]);

export interface MediaRequest {
  /** The local file being added. */
  path: string;
  /** The name it is added under. */
  name: string;
  /** A still image of a video (PNG, JPEG or WebP), made by the adder. */
  posterPath?: string;
}

export type FileMediaMaker = (
  request: MediaRequest,
  transfer: ContentTransfer,
) => Promise<FileMedia>;

export function kindByName(name: string): MediaKind {
  const dot = name.lastIndexOf(".");
  const extension = dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
  if (IMAGE_EXTENSIONS.has(extension)) return "image";
  if (VIDEO_EXTENSIONS.has(extension)) return "video";
  return "file";
}

/** The real maker: sharp renditions uploaded through `transfer`. */
export function fileMediaMaker(logger: Logger): FileMediaMaker {
  return async (request, transfer) => {
    const kind = kindByName(request.name);
    const [pictures, chunkIndexKey] = await Promise.all([
      picturesOf(request, kind, transfer, logger),
      kind === "video" ? storeChunkIndex(request.path, transfer, logger) : undefined,
    ]);
    return { ...pictures, ...(chunkIndexKey === undefined ? {} : { chunkIndexKey }) };
  };
}

async function picturesOf(
  request: MediaRequest,
  kind: MediaKind,
  transfer: ContentTransfer,
  logger: Logger,
): Promise<FileMedia> {
  const addedAt = Date.now();
  const source =
    kind === "image" ? request.path : kind === "video" ? request.posterPath : undefined;
  if (source === undefined) return { kind, addedAt };
  let renditions: ImageRenditions;
  try {
    renditions = await makeImageRenditions(source);
  } catch (error) {
    logger.info({ err: error }, "no renditions for an added file");
    return { kind, addedAt };
  }
  const { thumbnailKey, previewKey } = await storeRenditions(renditions, transfer);
  return {
    kind,
    addedAt,
    thumbnailKey,
    previewKey,
    width: renditions.width,
    height: renditions.height,
    // A poster frame has no camera date; only a photo's EXIF counts.
    ...(kind === "image" && renditions.takenAt !== undefined
      ? { takenAt: renditions.takenAt }
      : {}),
  };
}

/** Stores the chunk index of a video larger than one block; its key, or undefined. */
async function storeChunkIndex(
  path: string,
  transfer: ContentTransfer,
  logger: Logger,
): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), "albumshare-chunk-index-"));
  try {
    if ((await stat(path)).size <= CHUNK_INDEX_BYTES) return undefined;
    const indexPath = join(dir, "chunk-index");
    await writeFile(indexPath, await chunkIndexOfFile(path));
    return (await transfer.upload(indexPath)).key;
  } catch (error) {
    logger.info({ err: error }, "no chunk index for an added video");
    return undefined;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function storeRenditions(
  renditions: ImageRenditions,
  transfer: ContentTransfer,
): Promise<{ thumbnailKey: string; previewKey: string }> {
  const dir = await mkdtemp(join(tmpdir(), "albumshare-renditions-"));
  try {
    const thumbnailPath = join(dir, "thumbnail.webp");
    const previewPath = join(dir, "preview.webp");
    await Promise.all([
      writeFile(thumbnailPath, renditions.thumbnail),
      writeFile(previewPath, renditions.preview),
    ]);
    const [thumbnail, preview] = await Promise.all([
      transfer.upload(thumbnailPath),
      transfer.upload(previewPath),
    ]);
    return { thumbnailKey: thumbnail.key, previewKey: preview.key };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
