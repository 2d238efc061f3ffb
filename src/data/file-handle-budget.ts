// How many transfers a data server may run at once without running out of
// file handles: the process's limit (RLIMIT_NOFILE, read from
// /proc/self/limits on Linux) minus a reserve for everything else a server
// opens (its connections, directory syncs, listings, the cluster link), so a
// normal request always finds a handle. Never raises a limit itself.

import { readFileSync } from "node:fs";

/** File handles kept out of the transfers' reach. */
export const FILE_HANDLE_RESERVE = 128;

/** The soft limit from a /proc/<pid>/limits text, or undefined. */
export function parseOpenFileLimit(limitsText: string): number | undefined {
  const line = limitsText.split("\n").find((l) => l.startsWith("Max open files"));
  const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
  if (soft === undefined) return undefined;
  if (soft === "unlimited") return Number.MAX_SAFE_INTEGER;
  const value = Number(soft);
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** This process's soft limit on open files, or undefined when it cannot be read. */
export function openFileLimit(): number | undefined {
  try {
    return parseOpenFileLimit(readFileSync("/proc/self/limits", "utf8"));
  } catch {
    return undefined;
  }
}

/** Transfers allowed: `wanted`, lowered to what the file-handle limit leaves after the reserve. */
export function transferBudget(wanted: number, limit: number | undefined): number {
  if (limit === undefined) return wanted;
  return Math.max(1, Math.min(wanted, limit - FILE_HANDLE_RESERVE));
}
