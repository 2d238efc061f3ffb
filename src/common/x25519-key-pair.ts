// Makes a fresh X25519 key pair as raw bytes plus the secret as a KeyObject
// (for crypto.diffieHellman), in a way that cannot deadlock Node.
//
// Why not generateKeyPairSync("x25519") and then export the KeyObjects: Node
// 20 shares one native key, and its mutex, between the key-generation job and
// the KeyObjects it returns. The job is garbage as soon as the call returns;
// exporting the key (e.g. as JWK) holds that mutex while it allocates, and if
// the allocation starts a garbage collection that finalizes the job, the
// job's destructor waits for the same mutex on the same thread: the process
// stops for good at 0 % CPU. Seen in a test that made thousands of session
// keys on a loaded machine (main thread in ~KeyGenJob -> uv_mutex_lock under
// a GC inside a string allocation). Here the job encodes both keys to DER
// itself, while it is alive, and returns plain buffers; the secret KeyObject
// is parsed from those bytes, so it shares its native key with nothing.
// Encoding and parsing DER cost OpenSSL about 0.3-1 ms per pair, against
// 0.1-0.2 ms for the KeyObject route: once per editing session, that is
// nothing beside a process that may never wake up. SessionKeys
// (src/peer/peer-keys.ts) makes every editor's session keys with it.
// It never logs or returns the secret in any other form than asked.
import { createPrivateKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { AlbumError, ErrorCode } from "./album-error.ts";

export const X25519_KEY_BYTES = 32;

// DER prefixes of an X25519 SubjectPublicKeyInfo and PKCS#8 PrivateKeyInfo
// (RFC 8410): the raw key is the 32 bytes that follow.
const SPKI_PREFIX = Buffer.from("302a300506032b656e032100", "hex");
const PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");

export interface X25519KeyPair {
  /** Raw 32-byte public key. */
  publicKey: Uint8Array;
  /** Raw 32-byte secret key (for APIs that take it raw, e.g. ZeroMQ's CURVE options). */
  secretKey: Uint8Array;
  /** The secret as a KeyObject of its own, for crypto.diffieHellman. */
  secret: KeyObject;
}

export function generateX25519KeyPair(): X25519KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("x25519", {
    publicKeyEncoding: { type: "spki", format: "der" },
    privateKeyEncoding: { type: "pkcs8", format: "der" },
  });
  return {
    publicKey: new Uint8Array(rawAfter(publicKey, SPKI_PREFIX, "public")),
    secretKey: new Uint8Array(rawAfter(privateKey, PKCS8_PREFIX, "private")),
    secret: createPrivateKey({ key: privateKey, format: "der", type: "pkcs8" }),
  };
}

function rawAfter(der: Buffer, prefix: Buffer, which: string): Buffer {
  if (
    der.length !== prefix.length + X25519_KEY_BYTES ||
    !der.subarray(0, prefix.length).equals(prefix)
  )
    throw new AlbumError(
      ErrorCode.Internal,
      `unexpected DER encoding of an X25519 ${which} key (${der.length} bytes)`,
    );
  return der.subarray(prefix.length);
}
