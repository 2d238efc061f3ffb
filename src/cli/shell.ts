// The interactive shell and its scripted mode. On a terminal: a prompt showing
// who is logged in (and the album being edited), line editing, history, tab
// completion (node:readline), progress bars on stderr for transfers.
// Otherwise: one command per input line, each finished before the next line
// is read, exit status 1 if any command failed; never a progress bar.
//
// Output (the integration tests rely on this; keep it stable). Results go to
// standard output, errors to standard error; in --json every line on standard
// output is one JSON object: a command result ("command") or an event ("event").
//
// Command results.
//   plain:  the result text on stdout (may span lines: listAlbums, listFiles),
//           or "error: <code label>: <message>" on stderr
//   --json: {"command":"<name as typed>","ok":true,"text":"...","data":{...}|null}
//           {"command":"<name as typed>","ok":false,"code":"<ErrorCode>","error":"..."}
//   Album commands' data:
//     getAlbum     {album, slot, editors:[{user, slot}] (the others), files:<count>, members:[...]}
//     putAlbum     {album}
//     listFiles    {files:[{name, average|null, ratings}]}
//     listReplica  {album, slot, members:[...], files:[{name, average, ratings, size, addedBy}],
//                   unhandedChanges, description}
//     addUser, removeUser  {user, members:[...]}
//     addFile      {name, size, alreadyStored}; several files: {added:[...], failed:[{what, error}]}
//     removeFile   {name}
//     rateFile     {name, stars, average, ratings}
//     downloadFile {name, path, size}; --all: {downloaded:[...], failed:[{what, error}]}
//     (a bulk command with any failure fails as a whole; its message lists each file)
//     logout, quit {album} when they handed an open album back first, else null
//
// Chat. In an editing session a line that is not a command is a chat message:
// a leading '/' always means a command, a first word equal to a command name
// is a command, a first word that looks like a mistyped command (another case,
// the start of a name, a typo: chat-or-command.ts) is an error and is not
// sent; `say <text>` sends any text as chat. Anything else is chat (the whole
// line, trimmed). A chat line yields one line: in plain mode its chat event,
// in --json mode its result
//   {"command":"chat","ok":true,"text":"<text>","data":{"from","text","time"}}
// (our own message is not repeated as an event). Outside a session an unknown
// command is an error, as any misuse.
//
// Session events, printed as they happen (between result lines):
//   plain:  [alice] hello there          a chat message (own messages too)
//           * bob joined (slot 2)
//           * bob left                   (+ " (connection lost)" / " (removed from the album)")
//           * session ended: <reason>
//           * lost the connection to the central server at <address> ...
//           * bob added beach.jpg / * bob rated beach.jpg 4 (avg 3.0 of 2) / * bob removed x.jpg
//             (another editor's changes; "* bob added 12 files" when many arrive at once)
//   --json: {"event":"chat","from":"alice","text":"hello there","time":<unix ms>}
//           {"event":"joined","user":"bob","slot":2}
//           {"event":"left","user":"bob","slot":2,"reason":"left|lost|removed"}
//           {"event":"sessionEnded","reason":"..."}
// The central connection (lost, then back by itself; one line each):
//   plain:  * lost the connection to the central server at H:P; reconnecting (...)
//           * reconnected to the central server
//   --json: {"event":"reconnecting","reason":"..."}  {"event":"restored"}
//           {"event":"connectionLost","address":"..."}
//           {"event":"filesChanged","by":"bob"|null,"changes":[{"kind":"added","name","size","addedBy"}|
//              {"kind":"removed","name"}|{"kind":"rated","name","stars"|null,"average","ratings"}]}
// A newcomer's chat history arrives as chat events before the getAlbum result.
//
// logout and quit in a session, and the end of the input, hand the album back
// first (putAlbum). At the end of input this prints a putAlbum result line of
// its own ({"command":"putAlbum",...}).
//
// Content keys never appear in anything printed.
import { createInterface, type Interface } from "node:readline";
import { AlbumError } from "../common/album-error.ts";
import type { AlbumSession, PeerEndpointOptions } from "../client/session/album-session.ts";
import { handBack } from "./album-commands.ts";
import { classifyLine, mistypedMessage } from "./chat-or-command.ts";
import { splitCommandLine } from "./command-line.ts";
import { UNLIMITED_WIDTH } from "./files-table.ts";
import { completeLine, type CompletionSource } from "./line-completion.ts";
import { jsonEventLine, plainEventLine, type SessionEvent } from "./session-event-lines.ts";
import {
  HISTORY_SIZE,
  historyFile,
  loadHistory,
  saveHistory,
  withoutPassword,
} from "./shell-history.ts";
import { commandNames, runCommand, sayText, type CommandResult } from "./shell-commands.ts";
import { ShellSession } from "./shell-session.ts";
import { invalidArgument } from "../common/album-error.ts";

/** How long changes are gathered before they are shown, so many arrive as one line. */
const CHANGE_BATCH_MS = 150;

export interface ShellOptions {
  central: string;
  json: boolean;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Where plain-mode errors go (default: process.stderr). */
  errors?: NodeJS.WritableStream;
  interactive: boolean;
  /** Our peer endpoint for editing sessions (default: 127.0.0.1, any free port). */
  peer?: PeerEndpointOptions;
  /** Where progress bars go when interactive (default: process.stderr). */
  progressStream?: NodeJS.WriteStream;
  /** The history file of the interactive shell (default: under the user's state folder). */
  historyFile?: string;
}

/** Runs the shell until quit or end of input; resolves with the exit status. */
export async function runShell(options: ShellOptions): Promise<number> {
  const write = (text: string): void => {
    options.output.write(`${text}\n`);
  };
  const errors = options.errors ?? process.stderr;
  let busy = false;
  const history = options.interactive ? (options.historyFile ?? historyFile()) : undefined;
  const readline: Interface = createInterface({
    input: options.input,
    output: options.interactive ? options.output : undefined,
    terminal: options.interactive,
    completer: options.interactive
      ? (line: string, callback: (error: null, result: [string[], string]) => void) => {
          completeLine(
            line,
            commandNames(),
            session.album?.isOpen ? albumCompletion(session.album) : undefined,
          ).then(
            (result) => callback(null, result),
            () => callback(null, [[], line]),
          );
        }
      : undefined,
    historySize: HISTORY_SIZE,
    history: history ? loadHistory(history) : [],
    removeHistoryDuplicates: true,
  });
  if (history) {
    readline.on("history", (lines: string[]) => {
      // A password typed at its prompt is forgotten; one typed on the command
      // line is cut off. Neither is kept, in memory or on disk.
      if (secretAbort) {
        lines.shift();
        return;
      }
      if (lines.length > 0) lines[0] = withoutPassword(lines[0]!);
      saveHistory(history, lines);
    });
  }
  // Our own chat message, just sent: its result line stands for it in --json.
  const ownPending = new Map<string, number>();
  // Changes arriving together (a bulk add is a delta per file) are shown together.
  let changesPending: SessionEvent & { kind: "filesChanged" } = {
    kind: "filesChanged",
    batches: [],
  };
  let changesTimer: NodeJS.Timeout | undefined;
  const printEvent = (event: SessionEvent): void => {
    if (event.kind === "filesChanged" && !options.json) {
      changesPending.batches.push(...event.batches);
      changesTimer ??= setTimeout(() => {
        changesTimer = undefined;
        const batch = changesPending;
        changesPending = { kind: "filesChanged", batches: [] };
        printNow(batch);
      }, CHANGE_BATCH_MS);
      return;
    }
    printNow(event);
  };
  const printNow = (event: SessionEvent): void => {
    if (
      options.json &&
      event.kind === "chat" &&
      session.album &&
      event.message.slot === session.album.slot
    ) {
      const waiting = ownPending.get(event.message.text) ?? 0;
      if (waiting > 0) {
        ownPending.set(event.message.text, waiting - 1);
        return;
      }
    }
    const line = options.json ? jsonEventLine(event) : plainEventLine(event);
    if (!options.interactive) return write(line);
    if (session.bar) return session.bar.notice(() => write(line));
    if (busy) return write(line);
    // Print above the prompt and redraw it, with what was typed so far, for the new state.
    options.output.write(`\r\x1b[2K${line}\n`);
    prompt(true);
  };
  const session = new ShellSession(
    options.central,
    options.peer ?? { bindHost: "127.0.0.1", bindPort: 0 },
    printEvent,
    options.interactive && !options.json ? (options.progressStream ?? process.stderr) : undefined,
    options.interactive ? process.stdout.columns || 80 : UNLIMITED_WIDTH,
  );
  let secretAbort: AbortController | undefined;
  if (options.interactive) session.askSecret = (text) => askSecret(text);
  function prompt(keepTyped = false): void {
    if (!options.interactive) return;
    const who = session.user ?? "";
    const editing = session.album?.isOpen ? `:${session.album.album}` : "";
    readline.setPrompt(who ? `albumshare(${who}${editing})> ` : "albumshare> ");
    readline.prompt(keepTyped);
  }
  let controller = new AbortController();
  let quitHinted = false;
  if (options.interactive) {
    readline.on("SIGINT", () => {
      if (secretAbort) {
        // Ctrl-C at a password prompt gives up the command.
        secretAbort.abort();
        return;
      }
      if (busy) {
        controller.abort();
        return;
      }
      const typed = readline.line;
      options.output.write("^C\n");
      if (typed.length > 0) {
        // As shells do: drop what was typed, a fresh prompt.
        clearTyped();
        quitHinted = false;
        prompt();
        return;
      }
      if (quitHinted) {
        readline.close();
        return;
      }
      quitHinted = true;
      write("(to leave: Ctrl-D, 'quit', or Ctrl-C again on an empty line)");
      prompt();
    });
  }
  if (options.interactive)
    write(`AlbumSharing shell — central server ${options.central}; type 'help' for the commands`);
  let failures = 0;
  prompt();
  for await (const line of readline) {
    quitHinted = false;
    busy = true;
    controller = new AbortController();
    session.signal = controller.signal;
    await handleLine(line);
    busy = false;
    if (session.quitRequested) break;
    prompt();
  }
  if (options.interactive) options.output.write("\n");
  if (changesTimer) {
    clearTimeout(changesTimer);
    printNow(changesPending);
  }
  if (session.album?.isOpen) {
    busy = true;
    await execute("putAlbum", async () => (await handBack(session)) ?? { text: "" });
  }
  readline.close();
  session.close();
  return failures === 0 ? 0 : 1;

  function clearTyped(): void {
    // readline has no public "clear the line"; its line and cursor are plain fields.
    const editable = readline as unknown as { line: string; cursor: number };
    editable.line = "";
    editable.cursor = 0;
  }

  /** Reads the next line without echo (a password); Ctrl-C gives up the command. */
  function askSecret(text: string): Promise<string> {
    const muted = readline as unknown as { _writeToOutput(chunk: string): void };
    const original = muted._writeToOutput.bind(readline);
    options.output.write(text);
    // readline has no "no echo" switch; its one output function is silenced meanwhile.
    muted._writeToOutput = () => {};
    const asking = new AbortController();
    secretAbort = asking;
    return new Promise<string>((resolve, reject) => {
      asking.signal.addEventListener(
        "abort",
        () => reject(invalidArgument("cancelled; nothing was sent")),
        { once: true },
      );
      readline.question("", { signal: asking.signal }, resolve);
    }).finally(() => {
      muted._writeToOutput = original;
      secretAbort = undefined;
      options.output.write("\n");
    });
  }

  async function handleLine(line: string): Promise<void> {
    const trimmed = line.trim();
    if (trimmed.length === 0) return;
    if (session.album?.isOpen) {
      const said = sayText(trimmed);
      if (said !== undefined) {
        if (said.length === 0) {
          failures++;
          report(invalidArgument("usage: say <text>"), "say");
        } else await sendChat(said, "say");
        return;
      }
      const kind = classifyLine(trimmed, commandNames());
      if (kind.kind === "chat") {
        await sendChat(kind.text, "chat");
        return;
      }
      if (kind.kind === "mistyped") {
        failures++;
        report(invalidArgument(mistypedMessage(kind.word, kind.guess)), kind.word);
        return;
      }
    }
    let words: string[];
    try {
      words = splitCommandLine(line);
    } catch (error) {
      failures++;
      report(AlbumError.from(error), line);
      return;
    }
    if (words.length === 0) return;
    await execute(words[0]!, () => runCommand(session, words));
  }

  async function sendChat(text: string, command: string): Promise<void> {
    const album = session.album!;
    await execute(command, async () => {
      if (options.json) ownPending.set(text, (ownPending.get(text) ?? 0) + 1);
      try {
        const sent = await album.chat(text);
        // The chat event shows the message; plain mode needs no second line.
        return { text: sent.text, data: sent, quiet: true };
      } catch (error) {
        const waiting = ownPending.get(text) ?? 0;
        if (waiting > 0) ownPending.set(text, waiting - 1);
        throw error;
      }
    });
  }

  async function execute(
    command: string,
    run: () => Promise<CommandResult & { quiet?: boolean }>,
  ): Promise<void> {
    try {
      const result = await run();
      if (options.json)
        write(
          JSON.stringify({
            command,
            ok: true,
            text: result.text,
            data: result.data ?? null,
          }),
        );
      else if (!result.quiet && result.text.length > 0) write(result.text);
    } catch (error) {
      failures++;
      report(AlbumError.from(error), command);
    }
  }

  function report(error: AlbumError, command: string): void {
    if (options.json)
      write(JSON.stringify({ command, ok: false, code: error.code, error: error.message }));
    else errors.write(`error: ${error.toLine()}\n`);
  }
}

function albumCompletion(album: AlbumSession): CompletionSource {
  return {
    fileNames: () => album.listFiles().map((file) => file.name),
    memberNames: () => album.members(),
  };
}
