// Makes the two renditions of an image with sharp — a thumbnail (256 px on
// the long side) and a preview (1440 px), both WebP, turned upright by the
// EXIF orientation — and reads its upright pixel size and the date it was
// taken (EXIF, with exifr). Reads the image once from disk; writes nothing.
// Never enlarges a small image, and refuses (an AlbumError) what sharp cannot
// decode, so the caller can add the file without renditions.
import exifr from "exifr";
import sharp, { type Sharp } from "sharp";
import { AlbumError, ErrorCode } from "../../common/album-error.ts";

export const THUMBNAIL_PIXELS = 256;
export const PREVIEW_PIXELS = 1440;
/** Decompression-bomb guard: sharp refuses images above this many pixels. */
const MAX_INPUT_PIXELS = 268_402_689;

export interface ImageRenditions {
  thumbnail: Buffer;
  preview: Buffer;
  width: number;
  height: number;
  /** Unix ms, when EXIF says. */
  takenAt?: number;
}

export async function makeImageRenditions(path: string): Promise<ImageRenditions> {
  let image: Sharp;
  let width: number;
  let height: number;
  try {
    image = sharp(path, { limitInputPixels: MAX_INPUT_PIXELS, failOn: "error" }).rotate();
    const metadata = await image.metadata();
    width = metadata.autoOrient?.width ?? metadata.width ?? 0;
    height = metadata.autoOrient?.height ?? metadata.height ?? 0;
    if (width < 1 || height < 1) throw new Error("no pixel size");
  } catch (error) {
    throw new AlbumError(ErrorCode.InvalidArgument, "not an image this client can read", {
      cause: error,
    });
  }
  const resized = (pixels: number, quality: number): Promise<Buffer> =>
    image
      .clone()
      .resize({ width: pixels, height: pixels, fit: "inside", withoutEnlargement: true })
      .webp({ quality })
      .toBuffer();
  const [thumbnail, preview, takenAt] = await Promise.all([
    resized(THUMBNAIL_PIXELS, 70),
    resized(PREVIEW_PIXELS, 80),
    dateTaken(path),
  ]);
  return { thumbnail, preview, width, height, ...(takenAt !== undefined ? { takenAt } : {}) };
}

/** The EXIF date the photo was taken, or undefined (absent, unreadable or absurd). */
async function dateTaken(path: string): Promise<number | undefined> {
  try {
    const tags = (await exifr.parse(path, { pick: ["DateTimeOriginal", "CreateDate"] })) as
      { DateTimeOriginal?: unknown; CreateDate?: unknown } | undefined;
    const value = tags?.DateTimeOriginal ?? tags?.CreateDate;
    if (!(value instanceof Date)) return undefined;
    const time = value.getTime();
    return Number.isFinite(time) && time > 0 ? time : undefined;
  } catch {
    return undefined;
  }
}
