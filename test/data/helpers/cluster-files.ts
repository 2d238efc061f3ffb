// Helpers of the data-server integration tests: make files with known
// content, find which data directories hold a key, and compare files.

import { createHash, randomBytes } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const sha256 = (bytes: Uint8Array): string =>
  createHash("sha256").update(bytes).digest("hex");

export interface TestFile {
  path: string;
  key: string;
  size: number;
}

export async function makeFile(dir: string, name: string, size: number): Promise<TestFile> {
  const bytes = randomBytes(size);
  const path = join(dir, name);
  await writeFile(path, bytes);
  return { path, key: sha256(bytes), size };
}

export async function sha256OfPath(path: string): Promise<string> {
  return sha256(await readFile(path));
}

/** Whether a data directory holds `key` (its file in the fan-out layout). */
export async function holds(dataDir: string, key: string): Promise<boolean> {
  try {
    await stat(join(dataDir, "objects", key.slice(0, 2), key));
    return true;
  } catch {
    return false;
  }
}
