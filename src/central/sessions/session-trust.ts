// What the central server vouches for in one editing session, for the peers
// to check each other by: the session's random token, every editor's public
// key (recorded with its slot at getAlbum, handed to the others, forgotten
// when the editor leaves and with the whole session when it ends), who held
// which slot before, and the highest slot handed out. Pure bookkeeping; the
// token is the only secret-ish value (it names the session, it grants nothing
// without an admitted key) and is never reused.
import { randomBytes } from "node:crypto";
import { invalidArgument } from "../../common/album-error.ts";

export const SESSION_TOKEN_BYTES = 16;
export const PEER_PUBLIC_KEY_BYTES = 32;

export class SessionTrust {
  /** 128 random bits: unguessable, fresh for every session. */
  readonly token: Uint8Array = new Uint8Array(randomBytes(SESSION_TOKEN_BYTES));
  readonly #keys = new Map<number, Uint8Array>();
  readonly #past: { slot: number; user: string }[] = [];
  #highestSlot = 0;

  get highestSlot(): number {
    return this.#highestSlot;
  }

  /** A slot was handed out with this key; refuses a missing or malformed key, or one already in use. */
  admit(slot: number, publicKey: Uint8Array): void {
    for (const key of this.#keys.values()) {
      if (Buffer.from(key).equals(Buffer.from(publicKey))) {
        throw invalidArgument("that peer public key is already used in this session");
      }
    }
    this.#keys.set(slot, new Uint8Array(publicKey));
    this.#highestSlot = Math.max(this.#highestSlot, slot);
  }

  keyOf(slot: number): Uint8Array | undefined {
    return this.#keys.get(slot);
  }

  /** The slot's holder left: its key stops being vouched for at once. */
  forget(slot: number, user: string): void {
    this.#keys.delete(slot);
    this.#past.push({ slot, user });
  }

  pastEditors(): readonly { slot: number; user: string }[] {
    return this.#past;
  }
}

/** Checks the key an editor sent with getAlbum. */
export function checkPeerPublicKey(key: Uint8Array): Uint8Array {
  if (key.byteLength !== PEER_PUBLIC_KEY_BYTES) {
    throw invalidArgument(
      `getAlbum needs a ${PEER_PUBLIC_KEY_BYTES}-byte peer public key (this client sent ${key.byteLength} bytes; upgrade it)`,
    );
  }
  return key;
}
