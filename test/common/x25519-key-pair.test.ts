// X25519 key pairs: raw keys of the right size that agree with each other
// and with what OpenSSL derives, and made without any KeyObject that shares
// its native key with the generation job (exporting such a KeyObject could
// deadlock the process under a garbage collection; see the module header).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createPublicKey, diffieHellman } from "node:crypto";
import { promisify } from "node:util";
import { generateX25519KeyPair, X25519_KEY_BYTES } from "../../src/common/x25519-key-pair.ts";

const publicKeyObject = (raw: Uint8Array) =>
  createPublicKey({
    key: { kty: "OKP", crv: "X25519", x: Buffer.from(raw).toString("base64url") },
    format: "jwk",
  });

void test("raw keys of 32 bytes that match the secret and agree by Diffie-Hellman", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const a = generateX25519KeyPair();
    const b = generateX25519KeyPair();
    for (const pair of [a, b]) {
      assert.equal(pair.publicKey.byteLength, X25519_KEY_BYTES);
      assert.equal(pair.secretKey.byteLength, X25519_KEY_BYTES);
      const jwk = pair.secret.export({ format: "jwk" });
      assert.deepEqual(Buffer.from(jwk.x!, "base64url"), Buffer.from(pair.publicKey));
      assert.deepEqual(Buffer.from(jwk.d!, "base64url"), Buffer.from(pair.secretKey));
      seen.add(Buffer.from(pair.publicKey).toString("hex"));
    }
    const ab = diffieHellman({ privateKey: a.secret, publicKey: publicKeyObject(b.publicKey) });
    const ba = diffieHellman({ privateKey: b.secret, publicKey: publicKeyObject(a.publicKey) });
    assert.deepEqual(ab, ba);
  }
  assert.equal(seen.size, 40, "every pair is fresh");
});

void test("no KeyObject comes out of generateKeyPairSync (only encoded buffers)", async () => {
  // In a fresh process: generateKeyPairSync is wrapped to record what it
  // returned, before the module under test is loaded.
  const script = `
    import crypto from "node:crypto";
    import { syncBuiltinESMExports } from "node:module";
    const original = crypto.generateKeyPairSync;
    const returned = [];
    crypto.generateKeyPairSync = (...args) => {
      const result = original(...args);
      returned.push(Object.values(result).map((v) => v?.constructor?.name ?? typeof v));
      return result;
    };
    syncBuiltinESMExports();
    const { generateX25519KeyPair } = await import("./src/common/x25519-key-pair.ts");
    for (let i = 0; i < 5; i++) generateX25519KeyPair();
    process.stdout.write(JSON.stringify(returned));
  `;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", script],
    { cwd: new URL("../../", import.meta.url).pathname },
  );
  const returned = JSON.parse(stdout) as string[][];
  assert.equal(returned.length, 5);
  for (const kinds of returned) assert.deepEqual(kinds, ["Buffer", "Buffer"]);
});
