// In an editing session, whether a line is a command, chat, or a command
// mistyped. A mistyped command must not be sent to everyone as chat: a first
// word that equals a command in another case, starts a command's name, or is
// within a small edit distance of one is refused with a "did you mean" and
// the chat escape (`say <text>` sends any text as chat). Pure.
import { editDistance } from "./command-line.ts";

/** The command that sends its text as chat whatever it looks like. */
export const SAY_COMMAND = "say";

export type LineKind =
  | { kind: "command" }
  | { kind: "chat"; text: string }
  | { kind: "mistyped"; word: string; guess: string };

export function classifyLine(line: string, commandNames: readonly string[]): LineKind {
  const text = line.trim();
  const first = text.split(/\s/, 1)[0] ?? "";
  if (first.startsWith("/") || commandNames.includes(first)) return { kind: "command" };
  const guess = mistypedCommand(first, commandNames);
  return guess ? { kind: "mistyped", word: first, guess } : { kind: "chat", text };
}

/** The command a word most likely meant, if it looks like a command at all. */
export function mistypedCommand(word: string, commandNames: readonly string[]): string | undefined {
  // Words with digits or punctuation ("ok!", "5", ":)") are never taken for commands.
  if (!/^[A-Za-z]{3,}$/.test(word)) return undefined;
  const lower = word.toLowerCase();
  const sameCase = commandNames.find((name) => name.toLowerCase() === lower);
  if (sameCase) return sameCase;
  // "download beach.jpg": the start of a command's name (long enough not to be a word like "rate").
  if (lower.length >= 5) {
    const started = commandNames.find((name) => name.toLowerCase().startsWith(lower));
    if (started) return started;
  }
  // Short words get one typo, longer ones two: "hello" stays chat, "listAlbms" does not.
  const allowed = lower.length <= 6 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const name of commandNames) {
    const distance = editDistance(lower, name.toLowerCase());
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best;
}

export function mistypedMessage(word: string, guess: string): string {
  return (
    `unknown command '${word}' (did you mean '${guess}'?); ` +
    `not sent as chat: to send it as chat, start the line with '${SAY_COMMAND} '`
  );
}
