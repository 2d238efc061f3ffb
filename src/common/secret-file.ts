// Reads a secret (the cluster token) from a file, the way ssh reads a key: the
// file must be readable by its owner only, or it is refused with one line that
// says how to fix it. Secrets travel between our processes by such files (or
// the environment), never on a command line, where `ps` shows them to every
// local user. Never put the secret itself into an error or a log line.
import { readFileSync, statSync } from "node:fs";
import { AlbumError, ErrorCode } from "./album-error.ts";

export function readSecretFile(path: string, what: string): string {
  let mode: number;
  let text: string;
  try {
    mode = statSync(path).mode & 0o777;
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new AlbumError(
      ErrorCode.FailedPrecondition,
      `cannot read the ${what} file ${path}: ${AlbumError.from(error).message}`,
      { cause: error },
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new AlbumError(
      ErrorCode.FailedPrecondition,
      `the ${what} file ${path} is readable by other users (mode ${mode.toString(8)}); run chmod 600 on it`,
    );
  }
  const secret = text.trim();
  if (secret.length === 0) {
    throw new AlbumError(ErrorCode.FailedPrecondition, `the ${what} file ${path} is empty`);
  }
  return secret;
}
