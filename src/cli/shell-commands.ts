// The shell's command table: name, usage, help text, argument count, and what
// it does through the client core. Each command returns one result line (and
// optionally structured data for --json); misuse throws an AlbumError that the
// shell prints as one line. The album commands live in album-commands.ts.
import {
  AlbumError,
  ErrorCode,
  failedPrecondition,
  invalidArgument,
} from "../common/album-error.ts";
import type { CentralClient } from "../client/central-client.ts";
import type { AlbumSession } from "../client/session/album-session.ts";
import { albumCommands, handBack, NOT_IN_SESSION } from "./album-commands.ts";
import { albumReferences } from "./album-references.ts";
import { SAY_COMMAND } from "./chat-or-command.ts";
import { printable } from "./session-event-lines.ts";
import { suggest } from "./command-line.ts";
import { transferCommands } from "./transfer-commands.ts";
import type { TransferProgressBar } from "./transfer-progress-bar.ts";

export interface ShellContext {
  /** Connects on first use; rejects with Unavailable naming the address. */
  central(): Promise<CentralClient>;
  user: string | undefined;
  /** Set by quit to end the shell after this command. */
  quitRequested: boolean;
  /** The editing session of this shell, if one is open (one at a time). */
  readonly album: AlbumSession | undefined;
  /** getAlbum: opens an editing session whose events the shell prints. */
  openAlbum(name: string): Promise<AlbumSession>;
  /** putAlbum of the open session; resolves with its album name, or undefined if none was open. */
  closeAlbum(): Promise<string | undefined>;
  /** A progress bar for a transfer when interactive; undefined in scripted mode. */
  transferProgress(label: string): TransferProgressBar | undefined;
  /** Aborted when the person cancels the running command (Ctrl-C); fresh for each command. */
  readonly signal: AbortSignal;
  /** Width to fit tables to: the terminal's columns, unbounded in scripted mode. */
  readonly columns: number;
  /** Asks for a password without echo on a terminal; undefined in scripted mode. */
  readonly askSecret: ((prompt: string) => Promise<string>) | undefined;
}

/** The password argument, or one asked for without echo (twice to register). */
async function passwordFor(
  context: ShellContext,
  command: "login" | "register",
  given: string | undefined,
): Promise<string> {
  if (given !== undefined) return given;
  const ask = context.askSecret;
  if (!ask) {
    throw invalidArgument(
      `wrong number of arguments; usage: ${command} <name> <password> ` +
        "(the password is asked for without echo only on a terminal)",
    );
  }
  const password = await ask("password: ");
  if (command === "register" && (await ask("password again: ")) !== password) {
    throw invalidArgument("the two passwords differ; nothing was registered");
  }
  return password;
}

export interface CommandResult {
  text: string;
  data?: unknown;
}

export interface ShellCommand {
  name: string;
  args: readonly string[];
  summary: string;
  /** Minimum and maximum number of arguments. */
  arity: [number, number];
  needsLogin: boolean;
  /** Only inside an editing session (getAlbum first). */
  needsSession?: boolean;
  run(context: ShellContext, args: string[]): Promise<CommandResult>;
}

function loggedIn(context: ShellContext): string {
  if (!context.user)
    throw new AlbumError(ErrorCode.Unauthenticated, "log in first (login <name> <password>)");
  return context.user;
}

export const shellCommands: readonly ShellCommand[] = [
  {
    name: "register",
    args: ["<name>", "[password]"],
    summary: "create a user account (on a terminal the password is asked for, twice, without echo)",
    arity: [1, 2],
    needsLogin: false,
    async run(context, [name, given]) {
      const password = await passwordFor(context, "register", given);
      await (await context.central()).register(name!, password);
      return { text: `registered '${name}'`, data: { name } };
    },
  },
  {
    name: "login",
    args: ["<name>", "[password]"],
    summary:
      "log in (on a terminal the password is asked for without echo); the connection stays open",
    arity: [1, 2],
    needsLogin: false,
    async run(context, [name, given]) {
      const password = await passwordFor(context, "login", given);
      const user = await (await context.central()).login(name!, password);
      context.user = user;
      return { text: `logged in as '${user}'`, data: { name: user } };
    },
  },
  {
    name: "logout",
    args: [],
    summary: "end the login (hands an open album back first)",
    arity: [0, 0],
    needsLogin: true,
    async run(context) {
      const user = loggedIn(context);
      const handedBack = await handBack(context);
      await (await context.central()).logout();
      context.user = undefined;
      const text = `logged out '${user}'`;
      return handedBack ? { text: `${handedBack.text}\n${text}`, data: handedBack.data } : { text };
    },
  },
  {
    name: "createAlbum",
    args: ["<name>"],
    summary:
      "create an album (spaces allowed: createAlbum summer 2024); you become its first member",
    arity: [1, Number.POSITIVE_INFINITY],
    needsLogin: true,
    async run(context, words) {
      // The words of the line are the name: people write "summer 2024" without quotes.
      const name = words.join(" ");
      await (await context.central()).createAlbum(name);
      return { text: `created album '${name}'`, data: { name } };
    },
  },
  {
    name: "listAlbums",
    args: [],
    summary: "list the albums you are a member of",
    arity: [0, 0],
    needsLogin: true,
    async run(context) {
      const albums = await (await context.central()).listAlbums();
      if (albums.length === 0)
        return { text: "no albums yet (createAlbum <name>)", data: { albums } };
      const shown = albumReferences(albums);
      const lines = albums.map(
        (a, index) =>
          `${printable(shown[index]!)} (${a.memberCount} member${a.memberCount === 1 ? "" : "s"}` +
          `${a.creator && a.creator !== context.user ? `, created by ${a.creator}` : ""}` +
          `${a.editorCount > 0 ? `, ${a.editorCount} editing now` : ""})`,
      );
      return { text: lines.join("\n"), data: { albums } };
    },
  },
  {
    name: "help",
    args: ["[command]"],
    summary: "list the commands, or explain one",
    arity: [0, 1],
    needsLogin: false,
    run(_context, [name]) {
      if (name !== undefined) {
        const command = findCommand(name);
        if (!command) throw unknownCommand(name);
        return Promise.resolve({ text: `${usage(command)}\n  ${command.summary}` });
      }
      const lines = shellCommands.map((c) => `  ${usage(c).padEnd(30)} ${c.summary}`);
      return Promise.resolve({
        text: [
          "commands:",
          ...lines,
          `  ${"<any other line>".padEnd(30)} in an editing session: a chat message to its editors`,
          "a leading '/' always means a command (/help); quote words with spaces (\"my photo.jpg\");",
          "a line that looks like a mistyped command is not sent: use 'say <text>' for such chat",
        ].join("\n"),
      });
    },
  },
  {
    name: "quit",
    args: [],
    summary: "leave the shell (hands an open album back first)",
    arity: [0, 0],
    needsLogin: false,
    async run(context) {
      context.quitRequested = true;
      const handedBack = await handBack(context);
      return handedBack
        ? { text: `${handedBack.text}\nbye`, data: handedBack.data }
        : { text: "bye" };
    },
  },
  ...albumCommands,
  ...transferCommands,
  {
    name: SAY_COMMAND,
    args: ["<text>"],
    summary: "in an editing session: send <text> as chat, even when it looks like a command",
    arity: [1, Number.POSITIVE_INFINITY],
    needsLogin: true,
    needsSession: true,
    run() {
      // The shell sends the rest of the line as typed (sayText); reaching here is a bug.
      return Promise.reject(invalidArgument("say is handled by the shell"));
    },
  },
];

export function usage(command: ShellCommand): string {
  return [command.name, ...command.args].join(" ");
}

/**
 * In an editing session, whether a line is a command rather than chat: a
 * leading '/' always means a command, and so does a first word that is a
 * command's name; anything else is chat.
 */
export function isCommandLine(line: string): boolean {
  const first = line.trimStart().split(/\s/, 1)[0] ?? "";
  return first.startsWith("/") || shellCommands.some((c) => c.name === first);
}

export const commandNames = (): string[] => shellCommands.map((c) => c.name);

/** The text of a `say <text>` line exactly as typed after the command word; undefined for other lines. */
export function sayText(line: string): string | undefined {
  const match = /^\s*\/?say(?:\s+(.*))?$/s.exec(line);
  if (!match) return undefined;
  return (match[1] ?? "").trim();
}

export function findCommand(name: string): ShellCommand | undefined {
  const bare = name.startsWith("/") ? name.slice(1) : name;
  return shellCommands.find((c) => c.name === bare);
}

export function unknownCommand(name: string): AlbumError {
  const bare = name.startsWith("/") ? name.slice(1) : name;
  const known = shellCommands.map((c) => c.name);
  const guess = known.find((k) => k.toLowerCase() === bare.toLowerCase()) ?? suggest(bare, known);
  return invalidArgument(
    `unknown command '${bare}'${guess ? ` (did you mean '${guess}'?)` : ""}; type 'help' for the list`,
  );
}

/** Checks the command exists, the argument count and the login, before running it. */
export async function runCommand(context: ShellContext, words: string[]): Promise<CommandResult> {
  const [name, ...args] = words;
  const command = findCommand(name!);
  if (!command) throw unknownCommand(name!);
  const [min, max] = command.arity;
  if (args.length < min || args.length > max) {
    throw invalidArgument(`wrong number of arguments; usage: ${usage(command)}`);
  }
  if (command.needsSession && !context.album?.isOpen) throw failedPrecondition(NOT_IN_SESSION);
  if (command.needsLogin) loggedIn(context);
  return command.run(context, args);
}
