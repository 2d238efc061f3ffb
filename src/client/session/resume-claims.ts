// An editor's claims to take its slot back after a lost connection or a
// restart of the central server (resumeAlbum; docs/crdt.md, rule 5), decided
// without I/O: what a claim carries — everything no acknowledged hand-off
// covered and the highest counter of its own slot as the replica holds it
// now — one claim at a time, and what a claim refused as behind the server's
// copy means. Part of the album-session core; never states a counter its
// replica does not hold, and never claims again with a counter that is still
// below the server's.
import { highestCounter } from "../../crdt/index.ts";
import type { EditorReplica } from "./editor-replica.ts";
import type { HandOffs, Receipts } from "./hand-offs.ts";
import type { SessionAction } from "./session-actions.ts";

type ResumeAction = Extract<SessionAction, { kind: "resume" }>;

/** Who claims: the album, our slot and its resume key. */
export interface Claimant {
  readonly album: string;
  readonly slot: number;
  readonly resumeKey: Uint8Array;
}

export class ResumeClaims {
  readonly #claimant: Claimant;
  readonly #replica: EditorReplica;
  readonly #handOffs: HandOffs;
  /** The claim in flight and what it carries. */
  #inFlight: { id: number; receipts: Receipts } | undefined;
  #nextId = 1;

  constructor(claimant: Claimant, replica: EditorReplica, handOffs: HandOffs) {
    this.#claimant = claimant;
    this.#replica = replica;
    this.#handOffs = handOffs;
  }

  /** A claim awaits its answer. */
  get inFlight(): boolean {
    return this.#inFlight !== undefined;
  }

  /** A claim with everything unacknowledged and our own slot's counter as it stands now. */
  claim(address: string): ResumeAction {
    const { delta, chat, receipts } = this.#handOffs.prepareAll();
    const id = this.#nextId++;
    this.#inFlight = { id, receipts };
    return {
      kind: "resume",
      id,
      claim: {
        album: this.#claimant.album,
        epoch: this.#replica.epoch,
        slot: this.#claimant.slot,
        resumeKey: this.#claimant.resumeKey,
        // Our own numbering goes on from here: the server checks it is not behind its copy.
        counter: highestCounter(this.#replica.state, this.#claimant.slot),
        delta,
        chat,
        address,
      },
    };
  }

  /** Claim `id` was answered: what it carried, if it is the one in flight (it is over then). */
  answered(id: number): Receipts | undefined {
    if (this.#inFlight?.id !== id) return undefined;
    const { receipts } = this.#inFlight;
    this.#inFlight = undefined;
    return receipts;
  }

  /**
   * The server refused our claim: its copy holds counter `known` of our slot,
   * above what we stated, and merged nothing. Our own events made while the
   * claim was in flight can get there first through a peer's hand-off; then
   * our replica — the only one numbering our slot, holding every event it
   * numbered — has reached `known`, and we claim again with the counter we
   * have now (the server checks it by the same rule). Below it, this replica
   * is not our slot's latest (it would relabel used dots): the reason to end.
   * Each claim again states a higher counter than the last, so this ends.
   */
  behind(known: number, address: string): { again: ResumeAction } | { end: string } {
    const own = highestCounter(this.#replica.state, this.#claimant.slot);
    if (own < known) {
      return {
        end: `could not resume the session: your replica is behind the server's copy of slot ${this.#claimant.slot} (counter ${own} < ${known}); open the album again`,
      };
    }
    return { again: this.claim(address) };
  }
}
