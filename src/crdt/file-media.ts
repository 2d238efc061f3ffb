// What a file entry records for the web app: the kind of media, the content
// keys of its renditions (a small thumbnail and a larger preview, stored on
// the data servers like any content), the pixel size, when the photo was taken
// and when the file was added. Set once when the file is added, like the rest
// of an entry, so it needs no merge rule of its own. The wire form is the
// FileMedia message (field 11 of FileEntry); entries without it (written
// before it existed) stay valid. Pure; rendition keys are capabilities and
// must never be displayed.
import { BinaryReader, WireType, type BinaryWriter } from "@bufbuild/protobuf/wire";
import { invalidArgument } from "../common/album-error.ts";
import type { ContentKey } from "./album-state.ts";

export type MediaKind = "image" | "video" | "file";

export interface FileMedia {
  readonly kind: MediaKind;
  readonly thumbnailKey?: ContentKey;
  readonly previewKey?: ContentKey;
  readonly width?: number;
  readonly height?: number;
  /** When the photo was taken (EXIF), unix ms. */
  readonly takenAt?: number;
  /** When the file was added (the adder's clock), unix ms. */
  readonly addedAt?: number;
  /** Key of the content's chunk index (common/chunk-index.ts): a video's parts verified on their own. */
  readonly chunkIndexKey?: ContentKey;
}

const FIELD = {
  kind: 1,
  thumbnailKey: 2,
  previewKey: 3,
  width: 4,
  height: 5,
  takenAt: 6,
  addedAt: 7,
  chunkIndexKey: 8,
};
const KINDS: readonly MediaKind[] = ["image", "video", "file"];
/** Pixel sizes past this are not photos (and would not fit a uint32 anyway). */
const MAX_PIXELS_PER_SIDE = 1_000_000;
/** Year 9999: times past this are nonsense. */
const MAX_TIME_MS = 253_402_300_799_000;

/** Why `media` cannot go into an entry, or undefined when it can. */
export function fileMediaProblem(media: FileMedia): string | undefined {
  if (!KINDS.includes(media.kind)) return "unknown media kind";
  for (const key of [media.thumbnailKey, media.previewKey, media.chunkIndexKey]) {
    if (key !== undefined && !/^[0-9a-f]{64}$/.test(key)) return "a rendition key is not SHA-256";
  }
  for (const side of [media.width, media.height]) {
    if (side !== undefined && !(Number.isInteger(side) && side >= 1 && side <= MAX_PIXELS_PER_SIDE))
      return "a pixel size is out of range";
  }
  for (const time of [media.takenAt, media.addedAt]) {
    if (time !== undefined && !(Number.isInteger(time) && time >= 1 && time <= MAX_TIME_MS))
      return "a time is out of range";
  }
  return undefined;
}

/** Writes `media` as one FileMedia field of the entry being written (fields in number order). */
export function writeFileMedia(writer: BinaryWriter, field: number, media: FileMedia): void {
  writer.tag(field, WireType.LengthDelimited).fork();
  writer.tag(FIELD.kind, WireType.Varint).int32(KINDS.indexOf(media.kind) + 1);
  if (media.thumbnailKey !== undefined)
    writer.tag(FIELD.thumbnailKey, WireType.LengthDelimited).bytes(hex(media.thumbnailKey));
  if (media.previewKey !== undefined)
    writer.tag(FIELD.previewKey, WireType.LengthDelimited).bytes(hex(media.previewKey));
  if (media.width !== undefined) writer.tag(FIELD.width, WireType.Varint).uint32(media.width);
  if (media.height !== undefined) writer.tag(FIELD.height, WireType.Varint).uint32(media.height);
  if (media.takenAt !== undefined) writer.tag(FIELD.takenAt, WireType.Varint).int64(media.takenAt);
  if (media.addedAt !== undefined) writer.tag(FIELD.addedAt, WireType.Varint).int64(media.addedAt);
  if (media.chunkIndexKey !== undefined)
    writer.tag(FIELD.chunkIndexKey, WireType.LengthDelimited).bytes(hex(media.chunkIndexKey));
  writer.join();
}

/**
 * Reads a FileMedia message from untrusted bytes; refuses anything malformed
 * or out of range with an InvalidArgument naming the problem. Unknown fields
 * (a later version's) are skipped.
 */
export function readFileMedia(bytes: Uint8Array): FileMedia {
  const reader = new BinaryReader(bytes);
  let kind = 0;
  const media: {
    -readonly [K in keyof FileMedia]?: FileMedia[K];
  } = {};
  const wanted = (wire: WireType, expected: WireType): void => {
    if (wire !== expected) throw invalidArgument("a media field has the wrong wire type");
  };
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    switch (field) {
      case FIELD.kind:
        wanted(wire, WireType.Varint);
        kind = reader.int32();
        break;
      case FIELD.thumbnailKey:
      case FIELD.previewKey:
      case FIELD.chunkIndexKey: {
        wanted(wire, WireType.LengthDelimited);
        const key = reader.bytes();
        if (key.length !== 32) throw invalidArgument("a rendition key must be 32 bytes");
        const text = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("hex");
        if (field === FIELD.thumbnailKey) media.thumbnailKey = text;
        else if (field === FIELD.previewKey) media.previewKey = text;
        else media.chunkIndexKey = text;
        break;
      }
      case FIELD.width:
      case FIELD.height: {
        wanted(wire, WireType.Varint);
        const side = reader.uint32();
        if (field === FIELD.width) media.width = side;
        else media.height = side;
        break;
      }
      case FIELD.takenAt:
      case FIELD.addedAt: {
        wanted(wire, WireType.Varint);
        const time = Number(reader.int64());
        if (field === FIELD.takenAt) media.takenAt = time;
        else media.addedAt = time;
        break;
      }
      default:
        reader.skip(wire, field);
    }
  }
  if (reader.pos !== reader.len) throw invalidArgument("media ends in the middle of a field");
  const named = KINDS[kind - 1];
  if (named === undefined) throw invalidArgument("unknown media kind");
  const result: FileMedia = { ...media, kind: named };
  const problem = fileMediaProblem(result);
  if (problem !== undefined) throw invalidArgument(problem);
  return result;
}

const hex = (key: string): Uint8Array => Buffer.from(key, "hex");
