// What the end-to-end session tests ask of a shell's replica: its files, its
// description, and waiting until several shells agree.
import { eventually } from "../../support/eventually.ts";
import type { ShellClient } from "./local-system.ts";

export interface ListedFile {
  name: string;
  average: number | null;
  ratings: number;
}

export async function filesOf(client: ShellClient): Promise<ListedFile[]> {
  const result = await client.ok("listFiles");
  return (result.data as { files: ListedFile[] }).files;
}

export async function replicaOf(client: ShellClient): Promise<string> {
  return (await client.ok("listReplica")).text;
}

/** Waits until every client's replica description is the same and passes `check`. */
export async function converged(
  clients: readonly ShellClient[],
  what: string,
  check: (files: ListedFile[]) => boolean,
): Promise<ListedFile[]> {
  let files: ListedFile[] = [];
  await eventually(
    async () => {
      const replicas = await Promise.all(clients.map(replicaOf));
      if (replicas.some((replica) => replica !== replicas[0])) return false;
      files = await filesOf(clients[0]!);
      return check(files);
    },
    what,
    { pollMs: 100 },
  );
  return files;
}

export const names = (files: readonly ListedFile[]): string[] => files.map((f) => f.name).sort();
