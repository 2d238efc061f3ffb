// Small file-system helpers for durability: fsync a directory after a rename
// or a create, and write a small file atomically (aside, fsync, rename, fsync
// the directory). Used by the content store, the server identity and the
// cluster state. Never used for content streams (see content-store.ts).

import { open, rename, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";

/** Makes a directory's entries (creates, renames, deletes) durable. */
export async function fsyncDirectory(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces `path` with `content` so that a crash leaves the old or the new file, whole. */
export async function writeFileAtomically(
  path: string,
  content: string | Uint8Array,
): Promise<void> {
  const aside = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(aside, "wx", 0o600);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(aside, path);
  } catch (error) {
    await rm(aside, { force: true });
    throw error;
  }
  await fsyncDirectory(dirname(path));
}
