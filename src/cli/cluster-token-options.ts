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

/**
 * The token chosen by the options, or undefined when none was given. A server
 * (`warn`) given the token on its command line says once that `ps` shows it
 * for as long as it runs; a one-shot command keeps its output to one line.
 */
export function clusterTokenFrom(
  options: ClusterTokenOptionValues,
  command: Command,
  warn = true,
): string | undefined {
  const tokenSource = command.getOptionValueSource("clusterToken");
  const fileSource = command.getOptionValueSource("clusterTokenFile");
  // What the command line says beats the environment; two on one level clash.
  if (
    options.clusterToken !== undefined &&
    options.clusterTokenFile !== undefined &&
    tokenSource === fileSource
  ) {
    throw invalidArgument("give the cluster token either directly or as a file, not both");
  }
  if (options.clusterToken !== undefined && tokenSource === "cli" && fileSource === "env") {
    return warnIfShown(options.clusterToken, warn);
  }
  if (options.clusterTokenFile !== undefined) {
    return readSecretFile(options.clusterTokenFile, "cluster token");
  }
  if (options.clusterToken === undefined) return undefined;
  return tokenSource === "cli" ? warnIfShown(options.clusterToken, warn) : options.clusterToken;
}

function warnIfShown(token: string, warn: boolean): string {
  if (warn) {
    process.stderr.write(
      "albumshare: warning: --cluster-token on the command line is visible to other local users (ps); use ALBUMSHARE_CLUSTER_TOKEN or --cluster-token-file\n",
    );
  }
  return token;
}
