// Runs `albumshare client --json` as a real process with a script on its
// standard input and collects one parsed result per command, its stderr and
// its exit status. Bounded in time: a client that does not finish is killed.
import { spawn } from "node:child_process";
import { albumshareBin, repoRoot } from "./cli-server.ts";

export type ClientResult =
  | { command: string; ok: true; text: string; data: unknown }
  | { command: string; ok: false; code: string; error: string };

export interface ClientRun {
  status: number | null;
  results: ClientResult[];
  stderr: string;
}

export function runClientScript(
  args: readonly string[],
  script: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ClientRun> {
  const child = spawn(process.execPath, [albumshareBin, "client", "--json", ...args], {
    cwd: repoRoot,
    stdio: ["pipe", "pipe", "pipe"],
    env: options.env ?? process.env,
  });
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
      const results = stdout
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as ClientResult);
      resolve({ status, results, stderr });
    });
  });
}
