// The grown file entry: media (kind, rendition keys, pixel size, dates) goes
// through the canonical codec unchanged, agrees with the reflective protobuf
// codec, survives compaction, and a hostile media field is refused with
// InvalidArgument. Replicas written before media existed stay readable.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import {
  addFile,
  compact,
  createAlbumState,
  decodeState,
  encodeState,
  listFiles,
  type FileMedia,
} from "../../src/crdt/index.ts";
import { mergeInto } from "../../src/crdt/album-join.ts";
import { AlbumStateSchema, MediaKind } from "../../src/gen/albumshare/crdt/v1/album_pb.ts";
import { hexKey } from "../support/content-key-arbitrary.ts";

const editor = { slot: 1, user: "alice" };
const media: fc.Arbitrary<FileMedia> = fc
  .record(
    {
      kind: fc.constantFrom("image" as const, "video" as const, "file" as const),
      thumbnailKey: hexKey,
      previewKey: hexKey,
      width: fc.integer({ min: 1, max: 1_000_000 }),
      height: fc.integer({ min: 1, max: 1_000_000 }),
      takenAt: fc.integer({ min: 1, max: 253_402_300_799_000 }),
      addedAt: fc.integer({ min: 1, max: 253_402_300_799_000 }),
      chunkIndexKey: hexKey,
    },
    { requiredKeys: ["kind"] },
  )
  .map((picked) => ({ ...picked }));

function albumWith(files: { name: string; media?: FileMedia }[]) {
  const state = createAlbumState("alice");
  const base = compact(state);
  files.forEach((file, index) => {
    const contentKey = index.toString(16).padStart(64, "0");
    mergeInto(
      base,
      addFile(base, editor, {
        name: file.name,
        contentKey,
        size: 10 + index,
        ...(file.media ? { media: file.media } : {}),
      }),
    );
  });
  return base;
}

test("media survives encode, decode, the reflective codec and compaction", () => {
  fc.assert(
    fc.property(fc.option(media, { nil: undefined }), (picked) => {
      const state = albumWith([
        { name: "a.jpg", ...(picked ? { media: picked } : {}) },
        { name: "b.txt" },
      ]);
      const bytes = encodeState(state);
      const decoded = decodeState(bytes);
      assert.deepEqual(
        listFiles(decoded).map((f) => f.media),
        listFiles(state).map((f) => f.media),
      );
      // protobuf-es reads and writes the same bytes (the schema matches the hand-written codec).
      assert.deepEqual(toBinary(AlbumStateSchema, fromBinary(AlbumStateSchema, bytes)), bytes);
      const compacted = decodeState(encodeState(compact(decoded)));
      assert.deepEqual(
        listFiles(compacted).map((f) => f.media),
        listFiles(state).map((f) => f.media),
      );
    }),
    { numRuns: 200 },
  );
});

test("a replica written before media existed stays readable", () => {
  // Built with the generated schema, without field 11, as an older client wrote it.
  const old = create(AlbumStateSchema, {
    epoch: 2,
    users: ["alice"],
    members: [{ slot: 0, counter: 1, user: 0 }],
    files: [
      {
        slot: 0,
        counter: 2,
        nameSuffix: "beach.jpg",
        contentKey: new Uint8Array(32).fill(1),
        size: 5n,
        epochAdded: 1,
      },
    ],
  });
  const state = decodeState(toBinary(AlbumStateSchema, old));
  const [file] = listFiles(state);
  assert.equal(file?.name, "beach.jpg");
  assert.equal(file?.media, undefined);
});

test("hostile media is refused with InvalidArgument", () => {
  const valid = albumWith([
    { name: "a.jpg", media: { kind: "image", thumbnailKey: "ab".repeat(32) } },
  ]);
  const message = fromBinary(AlbumStateSchema, encodeState(valid));
  type WireMedia = NonNullable<(typeof message.files)[number]["media"]>;
  const cases: [string, (media: WireMedia) => void][] = [
    ["short key", (media) => (media.thumbnailKey = new Uint8Array(5))],
    ["unknown kind", (media) => (media.kind = 9 as MediaKind)],
    ["no kind", (media) => (media.kind = MediaKind.UNSPECIFIED)],
    ["negative time", (media) => (media.takenAt = -5n)],
    ["zero width", (media) => (media.width = 0 + 0 * 1) /* 0 is absent: still valid */],
  ];
  assert.ok(message.files.some((entry) => entry.media));
  for (const [what, mutate] of cases) {
    const copy = fromBinary(AlbumStateSchema, encodeState(valid));
    mutate(copy.files.find((entry) => entry.media)!.media!);
    const decode = (): unknown => decodeState(toBinary(AlbumStateSchema, copy));
    if (what === "zero width") {
      decode();
      continue;
    }
    assert.throws(
      decode,
      (error: unknown) => error instanceof AlbumError && error.code === ErrorCode.InvalidArgument,
      what,
    );
  }
});

test("an editor cannot add a file with out-of-range media", () => {
  const state = albumWith([]);
  assert.throws(
    () =>
      addFile(state, editor, {
        name: "x.jpg",
        contentKey: "0".repeat(64),
        size: 1,
        media: { kind: "image", width: 0 },
      }),
    (error: unknown) => error instanceof AlbumError && error.code === ErrorCode.InvalidArgument,
  );
});
