// What `albumshare up` shows a person. On a terminal: a short summary
// (addresses, the data folder, how to connect a shell from any folder, where
// the logs are, how to stop) while the servers' JSON log lines go to a file
// under the data folder. When output is not a terminal (operators, scripts,
// service managers) the log lines stay on standard error as before. Never
// sends anyone to the npm registry for our own executable: the connect
// command names this installation's entry point by its absolute path.
import { mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** This installation's `albumshare` entry point. */
export const ENTRY_POINT = fileURLToPath(new URL("../../bin/albumshare.js", import.meta.url));

export interface UpSummary {
  centralPort: number;
  clusterPort: number;
  dataServers: number;
  /** The CA certificate a client verifies the servers with (--tls-ca). */
  tlsCa: string;
  /** The web app's port (on 127.0.0.1). */
  webPort: number;
  dir: string;
  /** Where the servers' logs go; undefined when they go to standard error. */
  logFile: string | undefined;
}

/** `albumshare client --central ...` as a command that works from any folder. */
export function clientCommand(centralPort: number, tlsCa: string): string {
  return (
    `node ${quoteForShell(ENTRY_POINT)} client --central 127.0.0.1:${centralPort}` +
    ` --tls-ca ${quoteForShell(tlsCa)}`
  );
}

export function formatUpSummary(summary: UpSummary): string {
  const servers = `${summary.dataServers} data server${summary.dataServers === 1 ? "" : "s"}`;
  return [
    "",
    `AlbumSharing is up: central server on 127.0.0.1:${summary.centralPort} ` +
      `(cluster port ${summary.clusterPort}), ${servers}`,
    `  data:    ${summary.dir}`,
    summary.logFile
      ? `  logs:    ${summary.logFile} (JSON lines; --log-level to change how much)`
      : "  logs:    JSON lines on standard error",
    `  browser: http://127.0.0.1:${summary.webPort}/`,
    `  a shell: ${clientCommand(summary.centralPort, summary.tlsCa)}   (works from any folder)`,
    "Stop with Ctrl-C.",
    "",
  ].join("\n");
}

/** The log file of a local system, opened for appending (one per data folder). */
export function openUpLog(dir: string): { path: string; fd: number } {
  const folder = join(dir, "logs");
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const path = join(folder, "albumshare.log");
  return { path, fd: openSync(path, "a", 0o600) };
}

function quoteForShell(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, "'\\''")}'`;
}
