// The stable identity of a data server: a random id created on first start
// and kept in its directory, so a restart rejoins with the same ring position
// and moves no data. Never derived from the address (addresses may change).

import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { AlbumError, ErrorCode } from "../common/album-error.ts";
import { writeFileAtomically } from "./storage/durable-fs.ts";

const IDENTITY_FILE = "server-id";
const SERVER_ID_PATTERN = /^ds-[0-9a-f]{16}$/;

export function isServerId(value: string): boolean {
  return SERVER_ID_PATTERN.test(value);
}

export async function loadOrCreateServerId(
  dir: string,
): Promise<{ serverId: string; created: boolean }> {
  const path = join(dir, IDENTITY_FILE);
  try {
    const text = (await readFile(path, "utf8")).trim();
    if (!isServerId(text)) {
      throw new AlbumError(
        ErrorCode.FailedPrecondition,
        `the identity file of this data directory is damaged (expected ds-<16 hex digits>); refusing to invent a new identity over it`,
      );
    }
    return { serverId: text, created: false };
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ENOENT") throw AlbumError.from(error);
  }
  const serverId = `ds-${randomBytes(8).toString("hex")}`;
  await writeFileAtomically(path, `${serverId}\n`);
  return { serverId, created: true };
}
