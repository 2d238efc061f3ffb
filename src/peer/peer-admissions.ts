// Which editors' connections a mesh accepts, as pure bookkeeping: each
// admitted peer's public key (for the ZAP handler) and the pair routing id
// its connection must present (for naming the sender). Fed only by what the
// central server vouched for.
import { checkPublicKey, type SessionKeys } from "./peer-keys.ts";
import type { SessionSlot } from "./vector-clock.ts";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

export class PeerAdmissions {
  readonly #keys: SessionKeys;
  readonly #token: Uint8Array;
  readonly #bySlot = new Map<SessionSlot, { publicKey: string; incomingId: string }>();
  readonly #slotByIncomingId = new Map<string, SessionSlot>();
  readonly #publicKeys = new Set<string>();

  constructor(keys: SessionKeys, sessionToken: Uint8Array) {
    this.#keys = keys;
    this.#token = sessionToken;
  }

  /** Accepts the peer's key for `slot` (replacing the slot's earlier one). */
  admit(slot: SessionSlot, publicKey: Uint8Array): void {
    checkPublicKey(publicKey);
    const key = hex(publicKey);
    if (this.#bySlot.get(slot)?.publicKey === key) return;
    this.revoke(slot);
    const incomingId = hex(this.#keys.pairRoutingId(publicKey, "from-peer", this.#token));
    this.#bySlot.set(slot, { publicKey: key, incomingId });
    this.#slotByIncomingId.set(incomingId, slot);
    this.#publicKeys.add(key);
  }

  revoke(slot: SessionSlot): void {
    const admission = this.#bySlot.get(slot);
    if (!admission) return;
    this.#bySlot.delete(slot);
    this.#slotByIncomingId.delete(admission.incomingId);
    this.#publicKeys.delete(admission.publicKey);
  }

  has(slot: SessionSlot): boolean {
    return this.#bySlot.has(slot);
  }

  /** For the ZAP handler: is this a key we admit? */
  admitsKey(publicKey: Uint8Array): boolean {
    return this.#publicKeys.has(hex(publicKey));
  }

  /** The admitted peer a connection's routing id (as received) proves, if any. */
  slotOf(routingId: string): SessionSlot | undefined {
    return this.#slotByIncomingId.get(routingId);
  }

  clear(): void {
    this.#bySlot.clear();
    this.#slotByIncomingId.clear();
    this.#publicKeys.clear();
  }
}
