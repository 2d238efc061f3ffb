// The cluster token options shared by the server commands: the token from
// ALBUMSHARE_CLUSTER_TOKEN, from an owner-only file (--cluster-token-file,
// what `albumshare up` uses), or — discouraged, with a warning — from
// --cluster-token on the command line, which `ps` shows to every local user.
// Never prints the token.
import { Option, type Command } from "commander";
import { invalidArgument } from "../common/album-error.ts";
import { readSecretFile } from "../common/secret-file.ts";

export interface ClusterTokenOptionValues {
  clusterToken?: string;
  clusterTokenFile?: string;
}

export function clusterTokenOption(description: string): Option {
  return new Option(
    "--cluster-token <token>",
    `${description}; prefer ALBUMSHARE_CLUSTER_TOKEN or --cluster-token-file (a command line is visible to every local user)`,
  ).env("ALBUMSHARE_CLUSTER_TOKEN");
}

export function clusterTokenFileOption(): Option {
  return new Option(
    "--cluster-token-file <file>",
    "read the cluster token from this file (it must be readable by its owner only)",
  ).env("ALBUMSHARE_CLUSTER_TOKEN_FILE");
}

/** The token chosen by the options, or undefined when none was given. */
export function clusterTokenFrom(
  options: ClusterTokenOptionValues,
  command: Command,
): string | undefined {
  if (options.clusterToken !== undefined && options.clusterTokenFile !== undefined) {
    throw invalidArgument("give the cluster token either directly or as a file, not both");
  }
  if (options.clusterTokenFile !== undefined) {
    return readSecretFile(options.clusterTokenFile, "cluster token");
  }
  if (
    options.clusterToken !== undefined &&
    command.getOptionValueSource("clusterToken") === "cli"
  ) {
    process.stderr.write(
      "albumshare: warning: --cluster-token on the command line is visible to other local users (ps); use ALBUMSHARE_CLUSTER_TOKEN or --cluster-token-file\n",
    );
  }
  return options.clusterToken;
}
