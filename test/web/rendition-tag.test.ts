// The version tag of a picture's address: the same for the same served
// keys, different when any of them changes or under another server's
// secret, and never a content key or anything that contains one.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that test returns */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { AlbumFile } from "../../src/crdt/index.ts";
import { RenditionTags } from "../../src/web/rendition-tag.ts";
import { hexKey } from "../support/content-key-arbitrary.ts";

const keys = fc.record({
  contentKey: hexKey,
  thumbnailKey: fc.option(hexKey, { nil: undefined }),
  previewKey: fc.option(hexKey, { nil: undefined }),
});

/** The fields a tag may read; the rest of an AlbumFile does not matter to it. */
function fileOf(picked: {
  contentKey: string;
  thumbnailKey: string | undefined;
  previewKey: string | undefined;
}): AlbumFile {
  return {
    contentKey: picked.contentKey,
    media: {
      kind: "image",
      ...(picked.thumbnailKey ? { thumbnailKey: picked.thumbnailKey } : {}),
      ...(picked.previewKey ? { previewKey: picked.previewKey } : {}),
    },
  } as AlbumFile;
}

test("a tag is stable for the same keys, fresh for other keys, and reveals none", () => {
  const tags = new RenditionTags();
  fc.assert(
    fc.property(keys, keys, (a, b) => {
      const tagA = tags.of(fileOf(a));
      assert.equal(tags.of(fileOf({ ...a })), tagA, "a new listing entry of the same file");
      assert.match(tagA, /^[A-Za-z0-9_-]{16}$/);
      for (const key of [a.contentKey, a.thumbnailKey, a.previewKey]) {
        if (key !== undefined) assert.ok(!key.includes(tagA) && !tagA.includes(key.slice(0, 8)));
      }
      const same =
        a.contentKey === b.contentKey &&
        a.thumbnailKey === b.thumbnailKey &&
        a.previewKey === b.previewKey;
      assert.equal(tags.of(fileOf(b)) === tagA, same);
    }),
  );
});

test("another server (another secret) tags the same file differently", () => {
  fc.assert(
    fc.property(keys, (picked) => {
      assert.notEqual(
        new RenditionTags().of(fileOf(picked)),
        new RenditionTags().of(fileOf(picked)),
      );
    }),
    { numRuns: 50 },
  );
});
