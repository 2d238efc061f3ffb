// Runs `albumshare client` as a real process with a script on its standard
// input (not a terminal: scripted mode) and collects its output, standard
// error and exit status: with --json (the default) one parsed result per
// command, and in any mode the non-empty lines of each stream. The one
// harness for every test that scripts the shell. Bounded in time: a client
// that does not finish is killed.
import { spawn } from "node:child_process";
import { albumshareBin, repoRoot } from "./cli-server.ts";

export type ClientResult =
  | { command: string; ok: true; text: string; data: unknown }
  | { command: string; ok: false; code: string; error: string };

export interface ClientRun {
  status: number | null;
  /** One per command (--json only). */
  results: ClientResult[];
  /** Non-empty lines of standard output. */
  lines: string[];
  /** Non-empty lines of standard error. */
  errors: string[];
  stderr: string;
}

export interface ClientScriptOptions {
  /** --json: machine-readable results (default true). */
  json?: boolean;
  timeoutMs?: number;
  /** The client's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** `args` are the client's options (e.g. ["--central", address]). */
export function runClientScript(
  args: readonly string[],
  script: readonly string[],
  options: ClientScriptOptions = {},
): Promise<ClientRun> {
  const json = options.json ?? true;
  const child = spawn(
    process.execPath,
    [albumshareBin, "client", ...(json ? ["--json"] : []), ...args],
    {
      cwd: options.cwd ?? repoRoot,
      stdio: ["pipe", "pipe", "pipe"],
      env: options.env ?? process.env,
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  child.stdin.end(script.map((line) => `${line}\n`).join(""));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`client did not finish\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.once("exit", (status) => {
      clearTimeout(timer);
      const nonEmpty = (text: string): string[] => text.split("\n").filter((l) => l.length > 0);
      const lines = nonEmpty(stdout);
      const results = json
        ? lines
            .filter((line) => line.startsWith("{"))
            .map((line) => JSON.parse(line) as ClientResult)
        : [];
      resolve({ status, results, lines, errors: nonEmpty(stderr), stderr });
    });
  });
}
