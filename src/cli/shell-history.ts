// The interactive shell's history across runs: one file under the user's
// state folder ($XDG_STATE_HOME/albumshare/history, by default
// ~/.local/state/albumshare/history), newest line first as readline keeps
// it, readable by the user only. Passwords never reach it: `login`/`register`
// lines keep only the user name. A history that cannot be read or written
// never stops the shell (it just starts empty or is not kept).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { splitCommandLine } from "./command-line.ts";

export const HISTORY_SIZE = 500;

export function historyFile(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local", "state");
  return join(state, "albumshare", "history");
}

/** The line as it may be remembered: a password argument is dropped. */
export function withoutPassword(line: string): string {
  const match = /^(\s*\/?(?:login|register))\b(.*)$/.exec(line);
  if (!match) return line;
  let words: string[];
  try {
    words = splitCommandLine(match[2]!);
  } catch {
    return match[1]!.trim();
  }
  return [match[1]!.trim(), ...words.slice(0, 1)].join(" ");
}

/** Newest first, as readline's `history` option wants it. */
export function loadHistory(file: string): string[] {
  try {
    return readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line.length > 0)
      .reverse()
      .slice(0, HISTORY_SIZE);
  } catch {
    return [];
  }
}

export function saveHistory(file: string, newestFirst: readonly string[]): void {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const lines = newestFirst.slice(0, HISTORY_SIZE).map(withoutPassword).reverse();
    writeFileSync(file, lines.length > 0 ? `${lines.join("\n")}\n` : "", { mode: 0o600 });
  } catch {
    // Not kept this time; the shell works without it.
  }
}
