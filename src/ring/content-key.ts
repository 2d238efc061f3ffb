// Content keys: the SHA-256 of a file's content, written as 64 lowercase hex
// digits, and the key's position on the ring's 64-bit circle. A key is already
// a uniform hash, so its position is simply its first 8 bytes; hashing it again
// would add cost and nothing else.
// This module is pure: it never hashes content, reads files or logs keys (a key
// is a capability and must not leak into messages beyond a short prefix).

import { invalidArgument } from "../common/album-error.ts";

/** The SHA-256 of a content, as 64 lowercase hex digits. */
export type ContentKey = string;

/** Number of hex digits in a content key. */
export const CONTENT_KEY_LENGTH = 64;

const CONTENT_KEY_PATTERN = /^[0-9a-f]{64}$/;

export function isContentKey(value: string): value is ContentKey {
  return typeof value === "string" && CONTENT_KEY_PATTERN.test(value);
}

/**
 * Returns `value` as a ContentKey, or throws AlbumError InvalidArgument saying
 * what is wrong with it. Upper-case digits are refused rather than folded, so a
 * key has exactly one spelling (it names a file on disk and a ring position).
 */
export function parseContentKey(value: string): ContentKey {
  if (typeof value === "string" && CONTENT_KEY_PATTERN.test(value)) return value;
  if (typeof value !== "string") {
    throw invalidArgument(`a content key must be a string of ${CONTENT_KEY_LENGTH} hex digits`);
  }
  const shown = describeBadKey(value);
  if (value.length !== CONTENT_KEY_LENGTH) {
    throw invalidArgument(
      `a content key is ${CONTENT_KEY_LENGTH} lowercase hex digits (SHA-256); got ${value.length} characters: ${shown}`,
    );
  }
  if (/^[0-9a-fA-F]+$/.test(value)) {
    throw invalidArgument(
      `a content key must use lowercase hex digits (a-f), not upper case: ${shown}`,
    );
  }
  throw invalidArgument(`a content key may contain only the hex digits 0-9 and a-f: ${shown}`);
}

/** The key's position on the ring: its first 8 bytes as an unsigned 64-bit integer. */
export function keyPosition(key: ContentKey): bigint {
  return BigInt(`0x${key.slice(0, 16)}`);
}

// Quoted and shortened: enough to recognise the mistake, never a whole key
// (a well-formed prefix of a real key could otherwise end up in a log).
function describeBadKey(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, "?");
  return printable.length <= 16
    ? JSON.stringify(printable)
    : `${JSON.stringify(printable.slice(0, 12))}…`;
}
