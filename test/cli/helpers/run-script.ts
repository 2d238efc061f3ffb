// Runs `albumshare client` once as a child process with a script on standard
// input (not a terminal: scripted mode) and collects standard output, standard
// error and the exit status. Bounded: killed after 60 s.
import { spawn } from "node:child_process";
import { albumshareBin, repoRoot } from "../../support/cli-server.ts";

export interface ScriptRun {
  status: number | null;
  /** Non-empty lines of standard output. */
  lines: string[];
  /** Non-empty lines of standard error. */
  errors: string[];
  stderr: string;
}

export interface ScriptOptions {
  json?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export function runScript(
  central: string,
  script: readonly string[],
  options: ScriptOptions = {},
): Promise<ScriptRun> {
  const args = [albumshareBin, "client", "--central", central, ...(options.json ? ["--json"] : [])];
  const child = spawn(process.execPath, args, {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  child.stdin.end(script.map((line) => `${line}\n`).join(""));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`shell did not finish\n${stdout}\n${stderr}`));
    }, 60_000);
    child.once("exit", (status) => {
      clearTimeout(timer);
      const nonEmpty = (text: string): string[] => text.split("\n").filter((l) => l.length > 0);
      resolve({ status, lines: nonEmpty(stdout), errors: nonEmpty(stderr), stderr });
    });
  });
}
