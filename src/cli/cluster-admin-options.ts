// The options of the operator commands that talk to the central server's
// cluster port (`status`, `decommission`): the cluster address, the token
// (given, or the one `up` keeps in its folder) and TLS. Applying them checks
// TLS for the address dialled and returns the token; never prints it.
import { Option, type Command } from "commander";
import { parseHostPort } from "../common/host-port.ts";
import { addTlsOptions, applyTlsOptions, type TlsOptionValues } from "../common/tls/tls-options.ts";
import { DEFAULT_CLUSTER_PORT } from "../protocol/version.ts";
import {
  clusterTokenFileOption,
  clusterTokenFrom,
  clusterTokenOption,
  type ClusterTokenOptionValues,
} from "./cluster-token-options.ts";
import { readKeptClusterToken } from "./status-command.ts";

export type ClusterAdminOptionValues = { central: string; dir: string } & ClusterTokenOptionValues &
  TlsOptionValues;

export function addClusterAdminOptions(command: Command): Command {
  return addTlsOptions(command, "client")
    .addOption(
      new Option("--central <host:port>", "the central server's cluster address")
        .default(`127.0.0.1:${DEFAULT_CLUSTER_PORT}`)
        .env("ALBUMSHARE_CENTRAL_CLUSTER"),
    )
    .addOption(
      clusterTokenOption("shared secret of the cluster (default: the one `up` keeps in <dir>)"),
    )
    .addOption(clusterTokenFileOption())
    .addOption(
      new Option("--dir <dir>", "the folder of a local system started by `up`")
        .default(".albumshare")
        .env("ALBUMSHARE_DIR"),
    );
}

/** Sets up TLS for the cluster address; the token given, or else the one `up` keeps. */
export function applyClusterAdminOptions(
  options: ClusterAdminOptionValues,
  command: Command,
): string | undefined {
  applyTlsOptions(options, "client", {
    dial: [parseHostPort(options.central, DEFAULT_CLUSTER_PORT).host],
  });
  return clusterTokenFrom(options, command, false) || readKeptClusterToken(options.dir);
}
