// The interactive shell and its scripted mode. On a terminal: a prompt showing
// who is logged in, line editing, history and tab completion (node:readline).
// Otherwise: one command per input line, one result line per command (or one
// JSON object with --json), exit status 1 if any command failed.
import { createInterface, type Interface } from "node:readline";
import { AlbumError } from "../common/album-error.ts";
import { CentralClient } from "../client/central-client.ts";
import { splitCommandLine } from "./command-line.ts";
import { runCommand, shellCommands, type ShellContext } from "./shell-commands.ts";

export interface ShellOptions {
  central: string;
  json: boolean;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  interactive: boolean;
}

class ShellSession implements ShellContext {
  user: string | undefined;
  quitRequested = false;
  private client: CentralClient | undefined;

  constructor(private readonly address: string) {}

  async central(): Promise<CentralClient> {
    if (this.client && !this.client.isClosed) return this.client;
    if (this.client) this.user = undefined; // the login died with the old connection
    this.client = await CentralClient.connect({ address: this.address });
    return this.client;
  }

  close(): void {
    this.client?.close();
  }
}

function completer(line: string): [string[], string] {
  const trimmed = line.trimStart();
  if (trimmed.includes(" ")) return [[], line];
  const slash = trimmed.startsWith("/") ? "/" : "";
  const names = shellCommands.map((c) => slash + c.name);
  const hits = names.filter((n) => n.startsWith(trimmed));
  return [hits.length > 0 ? hits.map((h) => `${h} `) : names, trimmed];
}

/** Runs the shell until quit or end of input; resolves with the exit status. */
export async function runShell(options: ShellOptions): Promise<number> {
  const session = new ShellSession(options.central);
  const write = (text: string): void => {
    options.output.write(`${text}\n`);
  };
  const readline: Interface = createInterface({
    input: options.input,
    output: options.interactive ? options.output : undefined,
    terminal: options.interactive,
    completer: options.interactive ? completer : undefined,
    historySize: 500,
  });
  const prompt = (): void => {
    if (!options.interactive) return;
    readline.setPrompt(session.user ? `albumshare(${session.user})> ` : "albumshare> ");
    readline.prompt();
  };
  if (options.interactive)
    write(`AlbumSharing shell — central server ${options.central}; type 'help' for the commands`);
  let failures = 0;
  prompt();
  for await (const line of readline) {
    let words: string[];
    try {
      words = splitCommandLine(line);
    } catch (error) {
      failures++;
      report(AlbumError.from(error), line);
      prompt();
      continue;
    }
    if (words.length === 0) {
      prompt();
      continue;
    }
    try {
      const result = await runCommand(session, words);
      if (options.json)
        write(
          JSON.stringify({
            command: words[0],
            ok: true,
            text: result.text,
            data: result.data ?? null,
          }),
        );
      else write(result.text);
    } catch (error) {
      failures++;
      report(AlbumError.from(error), words[0]!);
    }
    if (session.quitRequested) break;
    prompt();
  }
  readline.close();
  session.close();
  return failures === 0 ? 0 : 1;

  function report(error: AlbumError, command: string): void {
    if (options.json)
      write(JSON.stringify({ command, ok: false, code: error.code, error: error.message }));
    else write(`error: ${error.toLine()}`);
  }
}
