// Persistence of the cluster coordinator: the committed ring and the join or
// decommission in progress, in one JSON file under the coordinator's directory, replaced
// atomically (aside, fsync, rename, fsync directory) on every change, so a
// restarted central server keeps the ring and resumes an unfinished join.
// Holds no state in memory; never writes anything but the whole state.

import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import { writeFileAtomically } from "../../data/storage/durable-fs.ts";
import { RingStateSchema } from "../../gen/albumshare/ring/v1/ring_pb.ts";
import { Ring, type RangeTransfer } from "../../ring/ring.ts";
import type { DecommissionStage, PersistedDecommission } from "./decommission.ts";

const STATE_FILE = "cluster-state.json";
const FORMAT_VERSION = 1;

export type JoinStage = "copy" | "finish" | "release";

export interface PersistedJoin {
  joinId: string;
  serverId: string;
  address: string;
  stage: JoinStage;
  /** The ring this join produces; committed from stage "finish" on. */
  nextRing: Ring;
  transfers: RangeTransfer[];
}

export interface CompletedJoin {
  joinId: string;
  serverId: string;
  ringVersion: number;
  movedKeys: number;
  movedBytes: number;
  completedAt: string;
}

export interface ClusterState {
  ring: Ring;
  join: PersistedJoin | null;
  lastJoin: CompletedJoin | null;
  /** A decommission in progress (absent in files written before decommissions existed). */
  decommission: PersistedDecommission | null;
}

interface TransferJson {
  start: string;
  end: string;
  from: string;
  to: string;
}

const transferToJson = (t: RangeTransfer): TransferJson => ({
  start: t.range.start.toString(),
  end: t.range.end.toString(),
  from: t.from,
  to: t.to,
});

const transferFromJson = (t: TransferJson): RangeTransfer => ({
  range: { start: BigInt(t.start), end: BigInt(t.end) },
  from: t.from,
  to: t.to,
});

interface StateFile {
  formatVersion: number;
  ring: JsonValue;
  join: null | {
    joinId: string;
    serverId: string;
    address: string;
    stage: JoinStage;
    nextRing: JsonValue;
    transfers: { start: string; end: string; from: string; to: string }[];
  };
  lastJoin: CompletedJoin | null;
  decommission?: null | {
    id: string;
    serverId: string;
    address: string;
    stage: DecommissionStage;
    nextRing: JsonValue;
    transfers: TransferJson[];
  };
}

export class ClusterStateStore {
  private readonly path: string;

  constructor(private readonly dir: string) {
    this.path = join(dir, STATE_FILE);
  }

  async load(): Promise<ClusterState> {
    await mkdir(this.dir, { recursive: true });
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as { code?: unknown }).code === "ENOENT")
        return { ring: Ring.empty(), join: null, lastJoin: null, decommission: null };
      throw AlbumError.from(error);
    }
    try {
      const file = JSON.parse(text) as StateFile;
      if (file.formatVersion !== FORMAT_VERSION)
        throw new Error(`unknown format version ${file.formatVersion}`);
      const join = file.join;
      return {
        ring: Ring.fromProto(fromJson(RingStateSchema, file.ring)),
        join: join && {
          joinId: join.joinId,
          serverId: join.serverId,
          address: join.address,
          stage: join.stage,
          nextRing: Ring.fromProto(fromJson(RingStateSchema, join.nextRing)),
          transfers: join.transfers.map((t) => ({
            range: { start: BigInt(t.start), end: BigInt(t.end) },
            from: t.from,
            to: t.to,
          })),
        },
        lastJoin: file.lastJoin ?? null,
        decommission: file.decommission
          ? {
              ...file.decommission,
              nextRing: Ring.fromProto(fromJson(RingStateSchema, file.decommission.nextRing)),
              transfers: file.decommission.transfers.map(transferFromJson),
            }
          : null,
      };
    } catch (error) {
      throw new AlbumError(
        ErrorCode.FailedPrecondition,
        `the cluster state file ${STATE_FILE} is damaged (${error instanceof Error ? error.message : String(error)}); refusing to start with an empty ring over it`,
        { cause: error },
      );
    }
  }

  async save(state: ClusterState): Promise<void> {
    const file: StateFile = {
      formatVersion: FORMAT_VERSION,
      ring: toJson(RingStateSchema, state.ring.toProto()),
      join: state.join && {
        joinId: state.join.joinId,
        serverId: state.join.serverId,
        address: state.join.address,
        stage: state.join.stage,
        nextRing: toJson(RingStateSchema, state.join.nextRing.toProto()),
        transfers: state.join.transfers.map((t) => ({
          start: t.range.start.toString(),
          end: t.range.end.toString(),
          from: t.from,
          to: t.to,
        })),
      },
      lastJoin: state.lastJoin,
      decommission: state.decommission && {
        id: state.decommission.id,
        serverId: state.decommission.serverId,
        address: state.decommission.address,
        stage: state.decommission.stage,
        nextRing: toJson(RingStateSchema, state.decommission.nextRing.toProto()),
        transfers: state.decommission.transfers.map(transferToJson),
      },
    };
    await writeFileAtomically(this.path, `${JSON.stringify(file, null, 2)}\n`);
  }
}
