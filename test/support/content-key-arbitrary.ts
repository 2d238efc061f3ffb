// A content key as the album stores it (64 hex digits of a SHA-256), for
// property tests.
import fc from "fast-check";

export const hexKey: fc.Arbitrary<string> = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((bytes) => Buffer.from(bytes).toString("hex"));
