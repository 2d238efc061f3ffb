// The operator's view of the cluster (`albumshare status`): ring version, the
// join in progress, and per data server its address, share of the key space,
// keys and bytes (as the server reports them; null when it did not answer).

import type { CompletedJoin, JoinStage } from "./cluster-state-store.ts";

export interface ClusterServerStatus {
  serverId: string;
  address: string;
  /** Fraction of the key space this server owns, 0..1. */
  share: number;
  reachable: boolean;
  keys: number | null;
  bytes: number | null;
  /** Ring version the server has adopted. */
  ringVersion: number | null;
  /** Why the server did not answer. */
  error?: string;
}

export interface ClusterStatus {
  ringVersion: number;
  servers: ClusterServerStatus[];
  /** The join in progress, if any. */
  join: { serverId: string; stage: JoinStage } | null;
  /** Servers waiting for their turn to join. */
  waiting: string[];
  lastJoin: CompletedJoin | null;
}

/** A plain-text table of the status, one line per server. */
export function formatClusterStatus(status: ClusterStatus): string {
  const header = ["server", "address", "share", "keys", "bytes"];
  const rows = status.servers.map((s) => [
    s.serverId,
    s.address,
    `${(s.share * 100).toFixed(1)}%`,
    s.keys === null ? "?" : String(s.keys),
    s.bytes === null ? `? (${s.error ?? "no answer"})` : String(s.bytes),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const lines = [`ring version ${status.ringVersion}, ${status.servers.length} data server(s)`];
  if (status.join) lines.push(`join in progress: ${status.join.serverId} (${status.join.stage})`);
  if (status.waiting.length > 0) lines.push(`waiting to join: ${status.waiting.join(", ")}`);
  lines.push(line(header), ...rows.map(line));
  return lines.join("\n");
}
