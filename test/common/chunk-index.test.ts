// The chunk verifier against an independent model (SHA-256 of each 1 MiB
// block computed here), for any content size, range and split of the stream
// into pieces (fast-check): what it hands out is exactly the range; and with
// any byte of the streamed blocks corrupted, everything it handed out before
// it refused is correct and ends before the corrupted block.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { CHUNK_INDEX_BYTES, ChunkVerifier, chunkCount } from "../../src/common/chunk-index.ts";

const BASE = randomBytes(Math.floor(2.5 * CHUNK_INDEX_BYTES));

function indexOf(content: Buffer): Buffer {
  const digests: Buffer[] = [];
  for (let at = 0; at < content.length; at += CHUNK_INDEX_BYTES) {
    digests.push(
      createHash("sha256")
        .update(content.subarray(at, at + CHUNK_INDEX_BYTES))
        .digest(),
    );
  }
  return Buffer.concat(digests);
}

const scenario = fc
  .record({
    size: fc.integer({ min: 1, max: BASE.length }),
    a: fc.double({ min: 0, max: 1, noNaN: true }),
    b: fc.double({ min: 0, max: 1, noNaN: true }),
    pieces: fc.array(fc.integer({ min: 1, max: 700_000 }), { minLength: 1, maxLength: 8 }),
    corruptAt: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
  })
  .map(({ size, a, b, pieces, corruptAt }) => {
    const first = Math.min(size - 1, Math.floor(Math.min(a, b) * size));
    const last = Math.min(size - 1, Math.floor(Math.max(a, b) * size));
    return { size, start: first, end: last, pieces, corruptAt };
  });

/** Feeds `streamed` in pieces of the given sizes (repeated); returns what came out and whether it refused. */
function run(verifier: ChunkVerifier, streamed: Buffer, pieces: number[]) {
  const out: Buffer[] = [];
  let at = 0;
  let turn = 0;
  try {
    while (at < streamed.length && !verifier.done) {
      const length = pieces[turn++ % pieces.length]!;
      out.push(
        ...verifier.push(streamed.subarray(at, at + length)).map((part) => Buffer.from(part)),
      );
      at += length;
    }
    verifier.finish();
    return { out: Buffer.concat(out), refused: false };
  } catch {
    return { out: Buffer.concat(out), refused: true };
  }
}

void test("the verifier hands out exactly the range, and nothing of a corrupted block", () => {
  fc.assert(
    fc.property(scenario, ({ size, start, end, pieces, corruptAt }) => {
      const content = BASE.subarray(0, size);
      const index = indexOf(content);
      assert.equal(index.length, chunkCount(size) * 32);
      const verifier = new ChunkVerifier(index, size, start, end);
      const offset = verifier.offset;
      assert.equal(offset % CHUNK_INDEX_BYTES, 0);
      assert.ok(offset <= start && start - offset < CHUNK_INDEX_BYTES);
      const streamed = Buffer.from(content.subarray(offset));
      const wanted = content.subarray(start, end + 1);
      if (corruptAt === undefined) {
        const { out, refused } = run(verifier, streamed, pieces);
        assert.equal(refused, false);
        assert.ok(out.equals(wanted));
        return;
      }
      const position = Math.min(streamed.length - 1, Math.floor(corruptAt * streamed.length));
      streamed[position] = streamed[position]! ^ 0xff;
      const { out, refused } = run(verifier, streamed, pieces);
      // Every byte handed out is right, and none comes from the corrupted block or after it.
      assert.ok(out.equals(wanted.subarray(0, out.length)));
      const corruptBlockStart =
        offset + Math.floor(position / CHUNK_INDEX_BYTES) * CHUNK_INDEX_BYTES;
      assert.ok(start + out.length <= Math.max(start, corruptBlockStart));
      // Refused exactly when the corrupted block was one the range needed.
      assert.equal(refused, corruptBlockStart <= end);
    }),
    { numRuns: 60 },
  );
});

void test("an index of the wrong length and a range outside the content are refused", () => {
  assert.throws(() => new ChunkVerifier(Buffer.alloc(31), 10, 0, 5), /does not match the size/);
  assert.throws(() => new ChunkVerifier(Buffer.alloc(32), 10, 5, 10), /outside the content/);
});
