// The interactive shell and its scripted mode. On a terminal: a prompt showing
// who is logged in (and the album being edited), line editing, history, tab
// completion (node:readline), progress bars on stderr for transfers.
// Otherwise: one command per input line, each finished before the next line
// is read, exit status 1 if any command failed; never a progress bar.
//
// Output, one line per item (the integration tests rely on this; keep it stable):
//
// Command results.
//   plain:  the result text (may span lines), or "error: <code label>: <message>"
//   --json: {"command":"<name as typed>","ok":true,"text":"...","data":{...}|null}
//           {"command":"<name as typed>","ok":false,"code":"<ErrorCode>","error":"..."}
//   Album commands' data:
//     getAlbum     {album, slot, editors:[{user, slot}] (the others), files:<count>, members:[...]}
//     putAlbum     {album}
//     listFiles    {files:[{name, average|null, ratings}]}
//     listReplica  {album, slot, members:[...], files:[{name, average, ratings, size, addedBy}],
//                   unhandedChanges, description}
//     addUser, removeUser  {user, members:[...]}
//     addFile      {name, size, alreadyStored}
//     removeFile   {name}
//     rateFile     {name, stars, average, ratings}
//     downloadFile {name, path, size}
//     logout, quit {album} when they handed an open album back first, else null
//
// Chat. In an editing session a line that is not a command is a chat message:
// a leading '/' always means a command, a first word equal to a command name
// is a command, anything else is chat (the whole line, trimmed). A chat line
// gives its own chat event (below), and in --json mode also a result line
//   {"command":"chat","ok":true,"text":"<text>","data":{"from","text","time"}}
// (plain mode prints only the event line). Outside a session an unknown
// command is an error, as any misuse.
//
// Session events, printed as they happen (between result lines):
//   plain:  [alice] hello there          a chat message (own messages too)
//           * bob joined (slot 2)
//           * bob left                   (+ " (connection lost)" / " (removed from the album)")
//           * session ended: <reason>
//   --json: {"event":"chat","from":"alice","text":"hello there","time":<unix ms>}
//           {"event":"joined","user":"bob","slot":2}
//           {"event":"left","user":"bob","slot":2,"reason":"left|lost|removed"}
//           {"event":"sessionEnded","reason":"..."}
// The central connection (lost, then back by itself; one line each):
//   plain:  * lost the connection to the central server at H:P; reconnecting (...)
//           * reconnected to the central server
//   --json: {"event":"reconnecting","reason":"..."}  {"event":"restored"}
// A newcomer's chat history arrives as chat events before the getAlbum result.
//
// logout and quit in a session, and the end of the input, hand the album back
// first (putAlbum). At the end of input this prints a putAlbum result line of
// its own ({"command":"putAlbum",...}).
//
// Content keys never appear in anything printed.
import { createInterface, type Interface } from "node:readline";
import { AlbumError } from "../common/album-error.ts";
import { CentralClient } from "../client/central-client.ts";
import { AlbumSession, type PeerEndpointOptions } from "../client/session/album-session.ts";
import { handBack } from "./album-commands.ts";
import { splitCommandLine } from "./command-line.ts";
import { completeLine, type CompletionSource } from "./line-completion.ts";
import { jsonEventLine, plainEventLine, type SessionEvent } from "./session-event-lines.ts";
import {
  isCommandLine,
  runCommand,
  shellCommands,
  type CommandResult,
  type ShellContext,
} from "./shell-commands.ts";
import { startTransferProgressBar, type TransferProgressBar } from "./transfer-progress-bar.ts";

export interface ShellOptions {
  central: string;
  json: boolean;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  interactive: boolean;
  /** Our peer endpoint for editing sessions (default: 127.0.0.1, any free port). */
  peer?: PeerEndpointOptions;
  /** Where progress bars go when interactive (default: process.stderr). */
  progressStream?: NodeJS.WriteStream;
}

class ShellSession implements ShellContext {
  user: string | undefined;
  quitRequested = false;
  album: AlbumSession | undefined;
  private client: CentralClient | undefined;

  constructor(
    private readonly address: string,
    private readonly peer: PeerEndpointOptions,
    private readonly onEvent: (event: SessionEvent) => void,
    private readonly progressStream: NodeJS.WriteStream | undefined,
  ) {}

  async central(): Promise<CentralClient> {
    if (this.client && !this.client.isClosed) return this.client;
    if (this.client) this.user = undefined; // the login died with the old connection
    const client = await CentralClient.connect({ address: this.address });
    // One line each way per outage; commands meanwhile wait a little, then fail "unavailable".
    client.on("reconnecting", ({ reason }) => this.onEvent({ kind: "reconnecting", reason }));
    client.on("restored", () => this.onEvent({ kind: "restored" }));
    this.client = client;
    return client;
  }

  async openAlbum(name: string): Promise<AlbumSession> {
    const central = await this.central();
    const album = await AlbumSession.open({
      central,
      album: name,
      user: this.user!,
      peer: this.peer,
      events: {
        chat: (message) => this.onEvent({ kind: "chat", message }),
        editorJoined: (editor) => this.onEvent({ kind: "joined", editor }),
        editorLeft: (editor) => this.onEvent({ kind: "left", editor }),
        ended: (end) => {
          // May run while open() still runs (then open() fails and nothing was kept).
          if (this.album && !this.album.isOpen) this.album = undefined;
          this.onEvent({ kind: "sessionEnded", end });
        },
      },
    });
    this.album = album;
    return album;
  }

  async closeAlbum(): Promise<string | undefined> {
    const album = this.album;
    if (!album?.isOpen) {
      this.album = undefined;
      return undefined;
    }
    try {
      await album.close();
    } finally {
      // A hand-back refused while the central server is away leaves it open.
      if (!album.isOpen) this.album = undefined;
    }
    return album.album;
  }

  transferProgress(label: string): TransferProgressBar | undefined {
    return this.progressStream ? startTransferProgressBar(label, this.progressStream) : undefined;
  }

  close(): void {
    this.client?.close();
  }
}

/** Runs the shell until quit or end of input; resolves with the exit status. */
export async function runShell(options: ShellOptions): Promise<number> {
  const write = (text: string): void => {
    options.output.write(`${text}\n`);
  };
  let busy = false;
  const readline: Interface = createInterface({
    input: options.input,
    output: options.interactive ? options.output : undefined,
    terminal: options.interactive,
    completer: options.interactive
      ? (line: string) =>
          completeLine(
            line,
            shellCommands.map((command) => command.name),
            session.album?.isOpen ? albumCompletion(session.album) : undefined,
          )
      : undefined,
    historySize: 500,
  });
  const printEvent = (event: SessionEvent): void => {
    const line = options.json ? jsonEventLine(event) : plainEventLine(event);
    if (options.interactive && !busy) {
      // Print above the prompt and redraw it with what was typed so far.
      options.output.write(`\r\x1b[2K${line}\n`);
      readline.prompt(true);
    } else write(line);
  };
  const session = new ShellSession(
    options.central,
    options.peer ?? { bindHost: "127.0.0.1", bindPort: 0 },
    printEvent,
    options.interactive && !options.json ? (options.progressStream ?? process.stderr) : undefined,
  );
  const prompt = (): void => {
    if (!options.interactive) return;
    const who = session.user ?? "";
    const editing = session.album?.isOpen ? `:${session.album.album}` : "";
    readline.setPrompt(who ? `albumshare(${who}${editing})> ` : "albumshare> ");
    readline.prompt();
  };
  // Ctrl-C ends the shell like end of input: an open album is handed back first.
  if (options.interactive) readline.on("SIGINT", () => readline.close());
  if (options.interactive)
    write(`AlbumSharing shell — central server ${options.central}; type 'help' for the commands`);
  let failures = 0;
  prompt();
  for await (const line of readline) {
    busy = true;
    await handleLine(line);
    busy = false;
    if (session.quitRequested) break;
    prompt();
  }
  if (session.album?.isOpen) {
    busy = true;
    await execute("putAlbum", async () => (await handBack(session)) ?? { text: "" });
  }
  readline.close();
  session.close();
  return failures === 0 ? 0 : 1;

  async function handleLine(line: string): Promise<void> {
    const trimmed = line.trim();
    if (trimmed.length === 0) return;
    if (session.album?.isOpen && !isCommandLine(trimmed)) {
      const album = session.album;
      await execute("chat", async () => {
        const sent = await album.chat(trimmed);
        // The chat event shows the message; plain mode needs no second line.
        return { text: sent.text, data: sent, quiet: true };
      });
      return;
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
    else write(`error: ${error.toLine()}`);
  }
}

function albumCompletion(album: AlbumSession): CompletionSource {
  return {
    fileNames: () => album.listFiles().map((file) => file.name),
    memberNames: () => album.members(),
  };
}
