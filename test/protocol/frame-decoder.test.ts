// The length-prefixed framing: frames split at every byte boundary and many per
// chunk come back intact, zero-length frames are frames, and an oversized
// length prefix is refused before any buffer for it is allocated.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import {
  DEFAULT_MAX_FRAME_BYTES,
  encodeFrame,
  FRAME_HEADER_BYTES,
  FrameDecoder,
} from "../../src/protocol/frame-decoder.ts";

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

function concat(frames: readonly Uint8Array[]): Buffer {
  return Buffer.concat(frames.map((f) => encodeFrame(f)));
}

function asArrays(frames: readonly Uint8Array[]): number[][] {
  return frames.map((f) => Array.from(f));
}

describe("encodeFrame", () => {
  test("prefixes a 4-byte big-endian length", () => {
    const frame = encodeFrame(bytes(1, 2, 3));
    assert.deepEqual(Array.from(frame), [0, 0, 0, 3, 1, 2, 3]);
    assert.equal(FRAME_HEADER_BYTES, 4);
  });

  test("refuses a message over the limit", () => {
    assert.throws(
      () => encodeFrame(new Uint8Array(11), 10),
      (e: unknown) => e instanceof AlbumError && e.code === ErrorCode.ResourceExhausted,
    );
  });

  test("the default limit is 16 MiB", () => {
    assert.equal(DEFAULT_MAX_FRAME_BYTES, 16 * 1024 * 1024);
  });
});

describe("FrameDecoder", () => {
  test("one whole frame in one chunk", () => {
    const decoder = new FrameDecoder();
    assert.deepEqual(asArrays(decoder.push(encodeFrame(bytes(9, 8, 7)))), [[9, 8, 7]]);
    assert.equal(decoder.bufferedBytes, 0);
  });

  test("zero-length frames are returned as empty frames", () => {
    const decoder = new FrameDecoder();
    const frames = decoder.push(concat([bytes(), bytes(), bytes(5), bytes()]));
    assert.deepEqual(asArrays(frames), [[], [], [5], []]);
  });

  test("a zero-length frame split across reads", () => {
    const decoder = new FrameDecoder();
    assert.deepEqual(decoder.push(bytes(0, 0)), []);
    assert.deepEqual(asArrays(decoder.push(bytes(0, 0))), [[]]);
  });

  test("an empty chunk yields nothing and changes nothing", () => {
    const decoder = new FrameDecoder();
    assert.deepEqual(decoder.push(new Uint8Array(0)), []);
    assert.equal(decoder.bufferedBytes, 0);
  });

  test("a frame split at every byte boundary", () => {
    const payload = Uint8Array.from({ length: 37 }, (_, i) => (i * 7) & 0xff);
    const wire = encodeFrame(payload);
    for (let cut = 0; cut <= wire.length; cut++) {
      const decoder = new FrameDecoder();
      const first = decoder.push(wire.subarray(0, cut));
      const second = decoder.push(wire.subarray(cut));
      assert.deepEqual(asArrays([...first, ...second]), [Array.from(payload)], `cut at ${cut}`);
      assert.equal(decoder.bufferedBytes, 0);
    }
  });

  test("fed one byte at a time", () => {
    const payloads = [bytes(1), bytes(), bytes(2, 3, 4, 5, 6)];
    const wire = concat(payloads);
    const decoder = new FrameDecoder();
    const out: Uint8Array[] = [];
    for (const byte of wire) out.push(...decoder.push(bytes(byte)));
    assert.deepEqual(asArrays(out), asArrays(payloads));
  });

  test("an oversized prefix is refused as soon as the header is complete", () => {
    const decoder = new FrameDecoder(1024);
    // Only the header: the decoder must refuse without waiting for (or
    // allocating) the announced 4 GiB.
    assert.throws(
      () => decoder.push(bytes(0xff, 0xff, 0xff, 0xff)),
      (e: unknown) =>
        e instanceof AlbumError &&
        e.code === ErrorCode.ResourceExhausted &&
        /4294967295 bytes exceeds the limit of 1024/.test(e.message),
    );
  });

  test("an oversized prefix split across reads is refused at the fourth byte", () => {
    const decoder = new FrameDecoder(16);
    assert.deepEqual(decoder.push(bytes(0, 0)), []);
    assert.deepEqual(decoder.push(bytes(0)), []);
    assert.throws(() => decoder.push(bytes(17)), AlbumError);
  });

  test("a frame of exactly the limit is accepted", () => {
    const decoder = new FrameDecoder(16);
    const payload = new Uint8Array(16).fill(3);
    assert.deepEqual(asArrays(decoder.push(encodeFrame(payload, 16))), [Array.from(payload)]);
  });

  test("frames before an oversized one in the same chunk are not lost silently", () => {
    // The decoder throws for the whole push; the caller closes the connection.
    const decoder = new FrameDecoder(8);
    const wire = Buffer.concat([encodeFrame(bytes(1)), Buffer.from([0, 0, 0, 9])]);
    assert.throws(() => decoder.push(wire), AlbumError);
  });

  test("returned frames do not change when later chunks arrive", () => {
    const decoder = new FrameDecoder();
    const chunk = Buffer.from(concat([bytes(1, 2), bytes(3, 4)]));
    const frames = decoder.push(chunk);
    decoder.push(encodeFrame(bytes(7, 7)));
    assert.deepEqual(asArrays(frames), [
      [1, 2],
      [3, 4],
    ]);
  });
});

describe("FrameDecoder properties", () => {
  const payloadsArb = fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), {
    minLength: 0,
    maxLength: 20,
  });

  test("any frames, cut into any chunks, round-trip in order", () => {
    fc.assert(
      fc.property(
        payloadsArb,
        fc.array(fc.nat(), { maxLength: 40 }),
        (payloads: Uint8Array[], rawCuts: number[]) => {
          const wire = concat(payloads);
          const cuts = [...new Set(rawCuts.map((c) => c % (wire.length + 1)))].sort(
            (a, b) => a - b,
          );
          const decoder = new FrameDecoder();
          const out: Uint8Array[] = [];
          let from = 0;
          for (const cut of [...cuts, wire.length]) {
            out.push(...decoder.push(wire.subarray(from, cut)));
            from = cut;
          }
          assert.deepEqual(asArrays(out), asArrays(payloads));
          assert.equal(decoder.bufferedBytes, 0);
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  test("every single cut point of a multi-frame stream round-trips", () => {
    fc.assert(
      fc.property(payloadsArb, (payloads: Uint8Array[]) => {
        const wire = concat(payloads);
        for (let cut = 0; cut <= wire.length; cut += Math.max(1, Math.floor(wire.length / 64))) {
          const decoder = new FrameDecoder();
          const out = [...decoder.push(wire.subarray(0, cut)), ...decoder.push(wire.subarray(cut))];
          assert.deepEqual(asArrays(out), asArrays(payloads));
        }
      }),
      { seed: 7, numRuns: 100 },
    );
  });

  test("any announced length over the limit is refused, any within is awaited", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (length: number) => {
        const limit = 1 << 20;
        const decoder = new FrameDecoder(limit);
        const header = Buffer.alloc(4);
        header.writeUInt32BE(length, 0);
        if (length > limit) {
          assert.throws(() => decoder.push(header), AlbumError);
        } else {
          const frames = decoder.push(header);
          assert.equal(frames.length, length === 0 ? 1 : 0);
        }
      }),
      { seed: 1234, numRuns: 500 },
    );
  });
});
