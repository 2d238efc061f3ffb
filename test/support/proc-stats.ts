// What a test may read about a server process from /proc (Linux): its
// resident memory and how many file handles it holds. Used to assert bounds
// (memory, handles), never durations.

import { readdir, readFile, readlink } from "node:fs/promises";

/** Current resident set size (VmRSS) of `pid`, in bytes. */
export async function residentBytes(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Number of open file descriptors of `pid`. */
export async function openFileCount(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/** Open descriptors of `pid` that are files under `dir` (not sockets or pipes). */
export async function openFilesUnder(pid: number, dir: string): Promise<number> {
  let count = 0;
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    if (target.startsWith(dir)) count++;
  }
  return count;
}

/** The paths of the files under `dir` that `pid` holds open (for failure messages). */
export async function openPathsUnder(pid: number, dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    if (target.startsWith(dir)) paths.push(target.slice(dir.length));
  }
  return paths;
}
