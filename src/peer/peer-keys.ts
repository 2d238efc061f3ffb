// The keys of one editor in one editing session: a fresh Curve25519 key pair
// (CURVE encrypts the ZeroMQ connections with it and ZAP admits it), and the
// per-pair routing ids that prove which admitted editor a connection belongs
// to. Both ends of a pair derive the same secret by X25519; HKDF with the
// session token and the two public keys in sender -> receiver order turns it
// into a 32-byte routing id only the sender (or the receiver) can compute.
// The sender presents it inside CURVE's encrypted handshake, so no one else
// ever sees it: a connection that presents it was opened by the holder of the
// sender's secret key. Pure apart from the random key generation; never logs
// or returns a secret key.
import { createPublicKey, diffieHellman, hkdfSync, type KeyObject } from "node:crypto";
import { invalidArgument } from "../common/album-error.ts";
import { generateX25519KeyPair, type X25519KeyPair } from "../common/x25519-key-pair.ts";
import { z85Encode } from "./z85.ts";

export const PUBLIC_KEY_BYTES = 32;
export const ROUTING_ID_BYTES = 32;

/** An editor's key pair for one session; the secret stays in this object. */
export class SessionKeys {
  /** Raw 32-byte public key: what the central server records and vouches for. */
  readonly publicKey: Uint8Array;
  /** The same, in Z85, for ZeroMQ's options. */
  readonly publicKeyZ85: string;
  readonly #secret: KeyObject;
  readonly #secretZ85: string;

  private constructor(pair: X25519KeyPair) {
    this.#secret = pair.secret;
    this.publicKey = pair.publicKey;
    this.publicKeyZ85 = z85Encode(pair.publicKey);
    this.#secretZ85 = z85Encode(pair.secretKey);
  }

  /**
   * A fresh key pair (one per editor per session; never reused). Made without
   * exporting a generated KeyObject: that can deadlock Node 20 for good (see
   * x25519-key-pair.ts), and every editor makes one when it opens an album.
   */
  static generate(): SessionKeys {
    return new SessionKeys(generateX25519KeyPair());
  }

  /** For ZeroMQ's curveSecretKey option only. */
  get secretKeyZ85(): string {
    return this.#secretZ85;
  }

  /**
   * The routing id of the connection from sender to receiver (one of them is
   * us): "to-peer" is what our DEALER presents to the peer, "from-peer" what
   * the peer's DEALER must present to our ROUTER.
   */
  pairRoutingId(
    peerPublicKey: Uint8Array,
    direction: "to-peer" | "from-peer",
    sessionToken: Uint8Array,
  ): Uint8Array {
    const shared = diffieHellman({
      privateKey: this.#secret,
      publicKey: publicKeyObject(peerPublicKey),
    });
    const [sender, receiver] =
      direction === "to-peer" ? [this.publicKey, peerPublicKey] : [peerPublicKey, this.publicKey];
    const info = Buffer.concat([Buffer.from("albumshare peer routing id v2"), sender, receiver]);
    return new Uint8Array(hkdfSync("sha256", shared, sessionToken, info, ROUTING_ID_BYTES));
  }
}

export function checkPublicKey(key: Uint8Array): Uint8Array {
  if (key.byteLength !== PUBLIC_KEY_BYTES) {
    throw invalidArgument(`a peer public key has ${PUBLIC_KEY_BYTES} bytes, not ${key.byteLength}`);
  }
  return key;
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  checkPublicKey(raw);
  return createPublicKey({
    key: { kty: "OKP", crv: "X25519", x: Buffer.from(raw).toString("base64url") },
    format: "jwk",
  });
}
