// `albumshare data`: runs one data server in this process until SIGINT or
// SIGTERM, then stops it cleanly. The CLI parses the flags into
// DataServerCommandOptions and calls runDataServerCommand.

import { resolve } from "node:path";
import type { Logger } from "pino";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { formatHostPort, parseHostPort } from "../common/host-port.ts";
import { surviveUnhandledRejections } from "../common/unhandled-rejections.ts";
import { parseByteSize } from "./byte-size.ts";
import { DataServer } from "./data-server.ts";

export const DEFAULT_DATA_HOST = "127.0.0.1";
export const DEFAULT_DATA_PORT = 7402;
export const DEFAULT_CLUSTER_PORT = 7401;
/** Free disk space a data server never fills (--reserve). */
export const DEFAULT_RESERVE = "64MiB";

export interface DataServerCommandOptions {
  /** --central HOST:PORT: the central server's cluster port. */
  central: string;
  /** --host (default 127.0.0.1). */
  host?: string;
  /** --port (default 7402; 0 picks a free one). */
  port?: number;
  /** --advertise HOST:PORT (default host:port). */
  advertise?: string;
  /** --dir: data directory. */
  dir: string;
  /** --cluster-token (or the ALBUMSHARE_CLUSTER_TOKEN environment variable). */
  clusterToken?: string;
  /** --reserve: free disk space uploads never use, e.g. "64MiB". */
  reserve?: string;
  /** --max-transfers: uploads and downloads at once (lowered to fit the file-handle limit). */
  maxTransfers?: number;
  /** --stall-timeout: seconds without progress before a transfer is cancelled. */
  stallTimeoutSeconds?: number;
  logger: Logger;
}

/** Starts the server, installs signal handlers, and resolves with it once it is a member. */
export async function runDataServerCommand(options: DataServerCommandOptions): Promise<DataServer> {
  const clusterToken = options.clusterToken ?? process.env.ALBUMSHARE_CLUSTER_TOKEN;
  if (!clusterToken) {
    throw new AlbumError(
      ErrorCode.InvalidArgument,
      "a data server needs the cluster token: pass --cluster-token or set ALBUMSHARE_CLUSTER_TOKEN",
    );
  }
  const central = parseHostPort(options.central, DEFAULT_CLUSTER_PORT);
  if (options.advertise !== undefined) parseHostPort(options.advertise);
  if (
    options.maxTransfers !== undefined &&
    (!Number.isInteger(options.maxTransfers) || options.maxTransfers < 1)
  ) {
    throw new AlbumError(ErrorCode.InvalidArgument, "--max-transfers must be a whole number >= 1");
  }
  const stall = options.stallTimeoutSeconds;
  if (stall !== undefined && (!Number.isFinite(stall) || stall < 1 || stall > 3600)) {
    throw new AlbumError(
      ErrorCode.InvalidArgument,
      "--stall-timeout must be a number of seconds from 1 to 3600",
    );
  }
  const server = new DataServer({
    centralClusterAddress: formatHostPort(central),
    host: options.host ?? DEFAULT_DATA_HOST,
    port: options.port ?? DEFAULT_DATA_PORT,
    advertise: options.advertise,
    dir: resolve(options.dir),
    clusterToken,
    logger: options.logger,
    reserveBytes: parseByteSize(options.reserve ?? DEFAULT_RESERVE, "--reserve"),
    ...(options.maxTransfers !== undefined ? { maxTransfers: options.maxTransfers } : {}),
    ...(stall !== undefined ? { stallTimeoutMs: Math.round(stall * 1000) } : {}),
  });
  surviveUnhandledRejections(options.logger);
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    options.logger.info({ signal }, "data server stopping");
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await server.start();
  return server;
}
