// The resume key of a session slot: 128 random bits handed to the editor
// that took the slot (GetAlbumReply.resume_key), of which the server keeps
// only the SHA-256. Presenting it is what lets a returning editor reclaim
// exactly its own slot — not another user's, and not the same user's from
// another terminal (whose replica would not hold this slot's events).
// It must never compare keys in a way whose time depends on the content.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const RESUME_KEY_BYTES = 16;

export function newResumeKey(): { key: Uint8Array; hash: string } {
  const key = randomBytes(RESUME_KEY_BYTES);
  return { key, hash: hashResumeKey(key) };
}

export function hashResumeKey(key: Uint8Array): string {
  return createHash("sha256").update(key).digest("hex");
}

/** True when `key` is the one whose hash is `expectedHash`. */
export function resumeKeyMatches(key: Uint8Array, expectedHash: string): boolean {
  if (key.byteLength !== RESUME_KEY_BYTES || expectedHash.length !== 64) return false;
  return timingSafeEqual(Buffer.from(hashResumeKey(key), "hex"), Buffer.from(expectedHash, "hex"));
}
