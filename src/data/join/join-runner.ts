// Drives a data server's side of a join until it is a full member: follows
// the coordinator's Join stream (waits while another join runs, saying so in
// the log), copies its ranges before the ring switches, copies what reached
// the old owners meanwhile after it, and confirms each step. Resumes an
// interrupted join from the plan the coordinator sends again. Never deletes
// anything and never changes the ring itself.

import type { Logger } from "pino";
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import { backoffDelay, sleep } from "../../common/grpc/backoff.ts";
import { JoinPhase, type JoinPlan } from "../../gen/albumshare/cluster/v1/cluster_pb.ts";
import type { ClusterLink } from "../cluster-link.ts";
import type { IncomingTransfer, IncomingTransfers } from "./incoming-transfers.ts";
import type { CopyTotals, RangeCopier } from "./range-copier.ts";

export interface JoinRunnerOptions {
  link: ClusterLink;
  copier: RangeCopier;
  incoming: IncomingTransfers;
  /** Address this server advertises. */
  address: string;
  logger: Logger;
  /** Called once the server knows what is still being handed over to it. */
  onSettled: () => void;
}

export interface JoinResult {
  ringVersion: number;
  /** Keys and bytes this server received; zero when it was already a member. */
  moved: CopyTotals;
}

export class JoinRunner {
  constructor(private readonly options: JoinRunnerOptions) {}

  /** Returns once the coordinator reports the join done; retries until then or until `signal` aborts. */
  async run(signal: AbortSignal): Promise<JoinResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(signal);
      } catch (reason) {
        if (signal.aborted) throw signal.reason;
        this.options.logger.warn(
          { error: AlbumError.from(reason).toLine() },
          "join interrupted; retrying",
        );
        await sleep(backoffDelay(attempt), signal);
      }
    }
  }

  private async attempt(signal: AbortSignal): Promise<JoinResult> {
    const { link, logger, incoming } = this.options;
    const moved: CopyTotals = { keys: 0, bytes: 0, listed: 0 };
    let announcedWait = "";
    for await (const message of link.join(this.options.address, signal)) {
      const event = message.event;
      switch (event.case) {
        case "queued":
          if (announcedWait !== event.value.waitingFor) {
            announcedWait = event.value.waitingFor;
            logger.info(
              { waitingFor: event.value.waitingFor, ahead: event.value.ahead },
              "another data server is joining the cluster; waiting until its join completes",
            );
          }
          break;
        case "plan":
          await this.follow(event.value, moved, signal);
          break;
        case "done":
          incoming.clear();
          this.options.onSettled();
          return { ringVersion: Number(event.value.ringVersion), moved };
        default:
          break;
      }
    }
    throw new AlbumError(
      ErrorCode.Unavailable,
      "the central server ended the join without completing it",
    );
  }

  private async follow(plan: JoinPlan, moved: CopyTotals, signal: AbortSignal): Promise<void> {
    const { link, copier, incoming, logger } = this.options;
    incoming.set(plan.transfers.map(toIncoming));
    this.options.onSettled();
    const sources = [...incoming.bySource().values()];
    const nextVersion = Number(plan.nextRing?.version ?? 0n);
    if (plan.phase === JoinPhase.COPY) {
      logger.info(
        { ranges: plan.transfers.length, sources: sources.length, nextVersion },
        "joining: copying keys",
      );
      add(moved, await copier.copy(sources, 0, signal));
      const committed = await link.joinCopied(plan.joinId);
      logger.info(
        { ringVersion: committed },
        "joining: ring switched; copying what arrived meanwhile",
      );
      add(moved, await copier.copy(sources, committed, signal));
    } else if (plan.phase === JoinPhase.FINISH) {
      logger.info({ ringVersion: nextVersion }, "joining: resuming after the ring switch");
      add(moved, await copier.copy(sources, nextVersion, signal));
    } else {
      throw new AlbumError(ErrorCode.Internal, `unknown join phase ${plan.phase}`);
    }
    await link.joinCompleted(plan.joinId, moved.keys, moved.bytes);
    logger.info({ movedKeys: moved.keys, movedBytes: moved.bytes }, "joining: all keys received");
  }
}

function add(total: CopyTotals, more: CopyTotals): void {
  total.keys += more.keys;
  total.bytes += more.bytes;
  total.listed += more.listed;
}

function toIncoming(transfer: JoinPlan["transfers"][number]): IncomingTransfer {
  if (!transfer.range)
    throw new AlbumError(ErrorCode.Internal, "a join plan transfer lacks its range");
  return {
    range: { start: transfer.range.start, end: transfer.range.end },
    fromServerId: transfer.fromServerId,
    fromAddress: transfer.fromAddress,
  };
}
