// Folders and files that hold secrets or user data (password hashes, album
// content keys, the cluster token, stored blobs) are readable by their owner
// only, whatever the umask of the shell that started the server: folders 0700,
// files 0600. The mode is set explicitly after creation because mkdir/open
// modes are masked by the umask and an existing folder keeps its old mode.
// Never loosen a mode that is already stricter than these.
import { chmodSync, mkdirSync, statSync, writeFileSync } from "node:fs";

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (and parents) if needed and makes it owner-only. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  restrict(dir, PRIVATE_DIR_MODE);
}

/** Makes an existing file owner-only (e.g. a database SQLite just created). */
export function makePrivate(file: string): void {
  restrict(file, PRIVATE_FILE_MODE);
}

/** Writes a file that only its owner may read or write. */
export function writePrivateFile(file: string, contents: string | Uint8Array): void {
  writeFileSync(file, contents, { mode: PRIVATE_FILE_MODE });
  restrict(file, PRIVATE_FILE_MODE);
}

function restrict(path: string, mode: number): void {
  const current = statSync(path).mode & 0o777;
  // Only bits are taken away: a folder someone made 0500 stays 0500.
  const wanted = current & mode;
  if (wanted !== current) chmodSync(path, wanted);
}
