// Salted scrypt password hashes. Only the hash and its parameters are stored;
// comparison is in constant time. Hashing runs in libuv's thread pool so a
// login never blocks the event loop.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

export interface ScryptParameters {
  N: number;
  r: number;
  p: number;
  keyLength: number;
}

// N=2^15, r=8: about 32 MiB and tens of milliseconds per hash — the OWASP
// recommended floor for scrypt.
export const DEFAULT_SCRYPT: ScryptParameters = { N: 1 << 15, r: 8, p: 1, keyLength: 32 };

function scryptAsync(password: string, salt: Buffer, params: ScryptParameters): Promise<Buffer> {
  const options: ScryptOptions = {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: 128 * params.N * params.r * 2,
  };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, params.keyLength, options, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** Encoded as `scrypt$N$r$p$salt$hash` (base64) so parameters can change later. */
export async function hashPassword(password: string, params = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, params);
  return [
    "scrypt",
    params.N,
    params.r,
    params.p,
    salt.toString("base64"),
    key.toString("base64"),
  ].join("$");
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [, N, r, p, saltText, keyText] = parts;
  const expected = Buffer.from(keyText!, "base64");
  const actual = await scryptAsync(password, Buffer.from(saltText!, "base64"), {
    N: Number(N),
    r: Number(r),
    p: Number(p),
    keyLength: expected.length,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * A hash of a random password, verified against when the user does not exist,
 * so "no such user" and "wrong password" take the same time.
 */
export async function decoyHash(params = DEFAULT_SCRYPT): Promise<string> {
  return hashPassword(randomBytes(16).toString("hex"), params);
}
