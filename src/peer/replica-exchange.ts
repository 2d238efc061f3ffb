// The replica half of the session core: local CRDT deltas numbered and
// broadcast, remote ones applied (the replica audits them), lost ones noticed
// by their numbers (DeltaGapTracker), and the causal-context exchange that
// repairs them (CrdtSyncRequest / CrdtSyncReply). Agnostic of the CRDT: it
// sees only the ReplicaPort. Pure: its actions go to the core's CoreOutput.
// Must never apply a sync reply nobody asked for, never let a delta the
// replica refuses (malformed or forged) escape as an exception, and never
// decide on its own whom to ask: the core's repair planning does.
import { create } from "@bufbuild/protobuf";
import type { Logger } from "../common/logger.ts";
import {
  CrdtDeltaSchema,
  CrdtSyncReplySchema,
  CrdtSyncRequestSchema,
  type CrdtSyncReply,
  type CrdtSyncRequest,
} from "../gen/albumshare/peer/v1/peer_pb.ts";
import type { CoreOutput } from "./core-output.ts";
import { DeltaGapTracker } from "./delta-gap-tracker.ts";
import type { ReplicaPort } from "./replica-port.ts";
import { OutstandingRequests } from "./request-budgets.ts";
import type { SessionCoreStats } from "./session-core-types.ts";
import type { SessionSlot } from "./vector-clock.ts";

const EMPTY_BYTES = new Uint8Array(0);

export interface ReplicaExchangeOptions {
  replica: ReplicaPort;
  out: CoreOutput;
  stats: SessionCoreStats;
  logger: Logger;
}

/** What a sync reply turned out to be. */
export type SyncReplyOutcome = "unsolicited" | "applied" | "initial";

export class ReplicaExchange {
  readonly #replica: ReplicaPort;
  readonly #out: CoreOutput;
  readonly #stats: SessionCoreStats;
  readonly #logger: Logger;
  readonly #gaps = new DeltaGapTracker();
  readonly #asked = new OutstandingRequests();
  #deltaSeq = 0;

  constructor(options: ReplicaExchangeOptions) {
    this.#replica = options.replica;
    this.#out = options.out;
    this.#stats = options.stats;
    this.#logger = options.logger;
  }

  /** How many deltas we numbered and sent (a Hello tells peers, so a lost first one shows). */
  get deltasSent(): number {
    return this.#deltaSeq;
  }

  /** A local replica change, to spread. */
  localDelta(encodedDelta: Uint8Array): void {
    this.#deltaSeq++;
    this.#stats.deltasSent++;
    this.#out.broadcast({
      case: "crdtDelta",
      value: create(CrdtDeltaSchema, { seq: this.#deltaSeq, delta: encodedDelta }),
    });
  }

  /** A live delta, number `seq` of its sender. */
  onDelta(from: SessionSlot, seq: number, encodedDelta: Uint8Array): void {
    this.#gaps.record(from, seq);
    this.#apply(from, encodedDelta);
  }

  /** The peer's Hello said how many deltas it sent before. */
  expect(from: SessionSlot, deltasSent: number): void {
    this.#gaps.expect(from, deltasSent);
  }

  /** Answers with what the peer lacks (always for its initial ask). The caller checked its budget. */
  onSyncRequest(from: SessionSlot, request: CrdtSyncRequest): void {
    let missing: Uint8Array | undefined;
    try {
      missing = this.#replica.encodedMissingFor(request.context);
    } catch (error) {
      this.#logger.warn({ err: error, from }, "malformed causal context from peer");
      return;
    }
    if (missing === undefined && !request.initial) return;
    this.#out.send(from, {
      case: "crdtSyncReply",
      value: create(CrdtSyncReplySchema, {
        delta: missing ?? EMPTY_BYTES,
        initial: request.initial,
      }),
    });
  }

  onSyncReply(from: SessionSlot, reply: CrdtSyncReply): SyncReplyOutcome {
    if (!this.#asked.answered(from)) {
      this.#stats.unsolicitedReplies++;
      return "unsolicited";
    }
    if (reply.delta.byteLength > 0) this.#apply(from, reply.delta);
    return reply.initial ? "initial" : "applied";
  }

  /** Asks `target` for what our causal context lacks. */
  request(target: SessionSlot, initial: boolean): void {
    this.#out.send(target, {
      case: "crdtSyncRequest",
      value: create(CrdtSyncRequestSchema, { context: this.#replica.encodedContext(), initial }),
    });
    this.#asked.sent(target);
  }

  /** Senders with a gap in their numbering that lasted a whole repair period. */
  lastingGaps(): SessionSlot[] {
    return this.#gaps.closePeriod();
  }

  /** The slot's holder left or changed: its numbering and our requests to it start afresh. */
  forget(slot: SessionSlot): void {
    this.#gaps.forget(slot);
    this.#asked.forget(slot);
  }

  #apply(from: SessionSlot, encodedDelta: Uint8Array): void {
    try {
      this.#replica.applyRemote(encodedDelta);
    } catch (error) {
      this.#stats.deltasRefused++;
      this.#logger.warn({ err: error, from }, "remote delta refused by the replica");
      return;
    }
    this.#stats.deltasApplied++;
    this.#out.push({ kind: "remoteDelta", from });
  }
}
