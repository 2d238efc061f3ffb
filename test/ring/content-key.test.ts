// Content keys: what is accepted, what is refused and how, and the ring position.
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test runs the promises that describe/test return */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { AlbumError, ErrorCode } from "../../src/common/album-error.ts";
import { isContentKey, keyPosition, parseContentKey } from "../../src/ring/content-key.ts";

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

function assertInvalid(value: string, fragment: RegExp): void {
  assert.throws(
    () => parseContentKey(value),
    (error: unknown) =>
      error instanceof AlbumError &&
      error.code === ErrorCode.InvalidArgument &&
      fragment.test(error.message),
  );
}

describe("content keys", () => {
  test("a SHA-256 in lowercase hex is a content key", () => {
    const key = sha256("hello");
    assert.equal(isContentKey(key), true);
    assert.equal(parseContentKey(key), key);
  });

  test("wrong length, upper case and non-hex characters are refused with a clear message", () => {
    const key = sha256("hello");
    assert.equal(isContentKey(key.slice(1)), false);
    assertInvalid("", /64 lowercase hex digits.*got 0 characters/);
    assertInvalid(key.slice(1), /got 63 characters/);
    assertInvalid(`${key}0`, /got 65 characters/);
    assertInvalid(key.toUpperCase(), /lowercase/);
    assertInvalid(`../../etc/passwd${key.slice(16)}`, /only the hex digits/);
    assertInvalid(`${key.slice(0, 63)}g`, /only the hex digits/);
  });

  test("the error message never repeats a whole key", () => {
    const almost = `${sha256("secret").slice(0, 63)}Z`;
    try {
      parseContentKey(almost);
      assert.fail("expected an error");
    } catch (error) {
      assert.ok(error instanceof AlbumError);
      assert.ok(!error.message.includes(almost.slice(0, 40)));
    }
  });

  test("the position is the first 8 bytes, unsigned, big-endian", () => {
    assert.equal(keyPosition("0".repeat(64)), 0n);
    assert.equal(keyPosition("f".repeat(64)), (1n << 64n) - 1n);
    assert.equal(keyPosition(`0000000000000102${"f".repeat(48)}`), 0x102n);
    const key = sha256("photo.jpg");
    assert.equal(keyPosition(key), Buffer.from(key, "hex").readBigUInt64BE(0));
  });
});
