// Reads one file entry of an album state: the hot path of decoding a big
// album, so one reader runs over the whole buffer and no closure is made per
// entry. It checks wire types and framing only; the caller checks the values.
import { WireType, type BinaryReader } from "@bufbuild/protobuf/wire";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { readFileMedia, type FileMedia } from "./file-media.ts";
import { FILE } from "./album-wire.ts";
import { uint64, type Check } from "./album-wire-reader.ts";

export interface RawFile {
  slot: number;
  counter: number;
  namePrefix: number;
  nameSuffix: string;
  contentKey: Uint8Array;
  size: bigint;
  addedBy: number;
  epochAdded: number;
  ratingSum: bigint;
  ratingCount: bigint;
  media: Uint8Array | undefined;
}

export function readMediaAt(bytes: Uint8Array, at: () => string): FileMedia {
  try {
    return readFileMedia(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AlbumError(ErrorCode.InvalidArgument, `invalid album state: ${at()}: ${reason}`);
  }
}

export function readFile(
  reader: BinaryReader,
  bytes: Uint8Array,
  entry: Uint8Array,
  check: Check,
): RawFile {
  const file: RawFile = {
    slot: 0,
    counter: 0,
    namePrefix: 0,
    nameSuffix: "",
    contentKey: EMPTY,
    size: 0n,
    addedBy: 0,
    epochAdded: 0,
    ratingSum: 0n,
    ratingCount: 0n,
    media: undefined,
  };
  const end = entry.byteOffset - bytes.byteOffset + entry.byteLength;
  reader.pos = end - entry.byteLength;
  while (reader.pos < end) {
    const [field, wire] = reader.tag();
    const wanted =
      field === FILE.nameSuffix || field === FILE.contentKey || field === FILE.media
        ? WireType.LengthDelimited
        : WireType.Varint;
    if (field >= FILE.slot && field <= FILE.media)
      check(wire === wanted, "a file field has the wrong wire type");
    switch (field) {
      case FILE.slot:
        file.slot = reader.uint32();
        break;
      case FILE.counter:
        file.counter = reader.uint32();
        break;
      case FILE.namePrefix:
        file.namePrefix = reader.uint32();
        break;
      case FILE.nameSuffix:
        file.nameSuffix = reader.string(true);
        break;
      case FILE.contentKey:
        file.contentKey = reader.bytes();
        break;
      case FILE.size:
        file.size = uint64(reader);
        break;
      case FILE.addedBy:
        file.addedBy = reader.uint32();
        break;
      case FILE.epochAdded:
        file.epochAdded = reader.uint32();
        break;
      case FILE.ratingSum:
        file.ratingSum = uint64(reader);
        break;
      case FILE.ratingCount:
        file.ratingCount = uint64(reader);
        break;
      case FILE.media:
        file.media = reader.bytes();
        break;
      default:
        reader.skip(wire, field);
    }
  }
  check(reader.pos === end, "a file entry ends in the middle of a field");
  return file;
}

const EMPTY = new Uint8Array(0);
