// The interactive shell under a pseudo-terminal, for the tests about line
// editing, prompts, passwords and Ctrl-C: `script` (util-linux) gives the
// shell a terminal of the asked size without native addons. Keys go in as
// bytes ("\t", "\x03" for Ctrl-C, "\r" for Enter); what the terminal shows is
// collected, with a copy stripped of escape sequences for matching. Bounded:
// every wait has a deadline and the process is killed at the end.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { albumshareBin, repoRoot } from "../../support/cli-server.ts";

export const CTRL_C = "\x03";
export const CTRL_D = "\x04";

export class PtyShell {
  readonly child: ChildProcess;
  raw = "";
  readonly exit: Promise<number | null>;

  private constructor(child: ChildProcess) {
    this.child = child;
    child.stdout!.on("data", (chunk: Buffer) => (this.raw += chunk.toString("utf8")));
    this.exit = once(child, "exit").then(([code]) => code as number | null);
  }

  /** `albumshare <args>` on a terminal `columns` wide. */
  static start(
    args: readonly string[],
    options: { env?: NodeJS.ProcessEnv; columns?: number; cwd?: string } = {},
  ): PtyShell {
    const quoted = [process.execPath, albumshareBin, ...args].map(shellQuote).join(" ");
    const command = `stty cols ${options.columns ?? 100} rows 30; exec ${quoted}`;
    const child = spawn("script", ["-qfec", command, "/dev/null"], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    return new PtyShell(child);
  }

  /** What the terminal shows, escape sequences removed. */
  get text(): string {
    return stripTerminal(this.raw);
  }

  type(keys: string): void {
    this.child.stdin!.write(keys);
  }

  /** Waits until the terminal text (after `from` characters of it) matches. */
  async waitFor(pattern: RegExp, what: string, from = 0, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const text = this.text.slice(from);
      const match = pattern.exec(text);
      if (match) return match[0];
      if (this.child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`never saw ${what}\n--- terminal ---\n${this.text.slice(from)}`);
  }

  /** Waits for the process to end by itself; rejects after the deadline. */
  async exited(timeoutMs = 15_000): Promise<number | null> {
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    const code = await this.exit;
    clearTimeout(timer);
    return code;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGKILL");
    await this.exit;
  }
}

/** Terminal text as a person reads it: CSI/OSC sequences dropped, "\r\n" as "\n". */
export function stripTerminal(raw: string): string {
  return (
    raw
      // eslint-disable-next-line no-control-regex -- escape sequences are what is removed
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "")
      // eslint-disable-next-line no-control-regex -- escape sequences are what is removed
      .replace(/\x1b\][^\x07]*\x07/g, "")
      .replace(/\r\n/g, "\n")
  );
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}
