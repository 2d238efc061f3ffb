// Local paths as a person types them into the shell: `~` and `~/...` expand
// to the home folder (as a shell does), and a download destination is checked
// before anything is fetched, so a local problem names the local path and its
// reason and never blames the data servers. The overwrite rule lives here: an
// existing file is never replaced unless the command says --force; a folder
// as destination means "into this folder". Must never create, remove or
// write a file: it only looks.
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import { AlbumError, ErrorCode, failedPrecondition, notFound } from "../common/album-error.ts";

/** `~` and `~/rest` become the home folder; `~user` and everything else stay as typed. */
export function expandHome(path: string, home: string = homedir()): string {
  if (path === "~") return home;
  if (path.startsWith("~/") || (sep !== "/" && path.startsWith(`~${sep}`)))
    return join(home, path.slice(2));
  return path;
}

export interface DestinationOptions {
  /** Replace an existing file (never a folder). */
  force: boolean;
}

/**
 * Where a download of `fileName` typed as `dest` goes: `dest` itself, or
 * `dest/fileName` when `dest` is a folder (or ends with a slash), or
 * `./fileName` without one. Refuses, naming the local path and the reason, a
 * destination whose folder is missing or not writable, and an existing file
 * unless `force`.
 */
export async function downloadDestination(
  fileName: string,
  dest: string | undefined,
  options: DestinationOptions,
): Promise<string> {
  let path: string;
  if (dest === undefined) path = resolve(fileName);
  else {
    const typed = expandHome(dest);
    const wantsFolder = typed.endsWith("/") || typed.endsWith(sep);
    const info = await statOrUndefined(typed);
    if (info?.isDirectory()) path = resolve(typed, fileName);
    else if (wantsFolder) throw notFound(`no such local folder: ${typed}`);
    else path = resolve(typed);
  }
  const folder = dirname(path);
  const folderInfo = await statOrUndefined(folder);
  if (!folderInfo) throw notFound(`cannot write ${path}: no such local folder ${folder}`);
  if (!folderInfo.isDirectory())
    throw failedPrecondition(`cannot write ${path}: ${folder} is not a folder`);
  try {
    await access(folder, constants.W_OK);
  } catch {
    throw new AlbumError(
      ErrorCode.PermissionDenied,
      `cannot write ${path}: the local folder ${folder} is not writable`,
    );
  }
  const existing = await statOrUndefined(path);
  if (existing?.isDirectory())
    throw new AlbumError(ErrorCode.AlreadyExists, `${path} is a local folder`);
  if (existing && !options.force) {
    throw new AlbumError(
      ErrorCode.AlreadyExists,
      `${path} already exists; add --force to replace it, or give another destination`,
    );
  }
  if (existing && !existing.isFile())
    throw failedPrecondition(`cannot write ${path}: it is not a regular file`);
  return path;
}

async function statOrUndefined(
  path: string,
): Promise<Awaited<ReturnType<typeof stat>> | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new AlbumError(
      ErrorCode.PermissionDenied,
      `cannot look at the local path ${path} (${code ?? "error"})`,
    );
  }
}
