// The two album commands that move content over the data path: adding a file
// (check the local file, upload it while its renditions are made, then add it
// to the replica and spread the change) and downloading one (verified, to a
// path or into a directory). AlbumSession runs them inside its command guard.
// Never adds a file whose upload did not complete, and never lets a content
// key into an error message (dataPathError redacts).
import { join, resolve } from "node:path";
import { AlbumError, ErrorCode } from "../../common/album-error.ts";
import type { ProgressListener } from "../data-transfer/transfer-progress.ts";
import type { FileMediaMaker } from "../renditions/file-media-maker.ts";
import type { AddedFile, DownloadedFile } from "./album-session-types.ts";
import type { ContentTransfer } from "./content-transfer.ts";
import { checkLocalFile, dataPathError, isDirectory } from "./data-path.ts";
import type { EditorReplica } from "./editor-replica.ts";

export interface AddContext {
  replica: EditorReplica;
  transfer: ContentTransfer;
  fileMedia: FileMediaMaker | undefined;
  /** Throws when the session is no longer open (checked again after the upload). */
  requireOpen: () => void;
  /** Spreads a local change to the peers. */
  spread: (delta: Uint8Array) => void;
}

export interface AddRequest {
  path: string;
  /** Checked already (checkFileName). */
  fileName: string;
  onProgress?: ProgressListener | undefined;
  posterPath?: string | undefined;
  signal?: AbortSignal | undefined;
}

export async function uploadAndAdd(context: AddContext, request: AddRequest): Promise<AddedFile> {
  const { replica, transfer } = context;
  const { path, fileName } = request;
  if (replica.hasFileNamed(fileName)) {
    throw new AlbumError(
      ErrorCode.AlreadyExists,
      `a file named '${fileName}' is already in the album; remove it first or add yours under another name (addFile <path> <name>)`,
    );
  }
  await checkLocalFile(path);
  const startedAt = Date.now();
  // Renditions are made while the original uploads (they read the same local file).
  const making = context.fileMedia?.(
    { path, name: fileName, ...(request.posterPath ? { posterPath: request.posterPath } : {}) },
    transfer,
  );
  making?.catch(() => {}); // awaited below; only reported if the original made it
  const uploaded = await transfer
    .upload(path, request.onProgress, request.signal)
    .catch((error: unknown) => Promise.reject(dataPathError(error, "upload")));
  const media = await making?.catch((error: unknown) =>
    Promise.reject(dataPathError(error, "upload")),
  );
  context.requireOpen();
  context.spread(
    replica.addFile({
      name: fileName,
      contentKey: uploaded.key,
      size: uploaded.size,
      // listFiles shows when each file was added: a maker that left the date out still gets it.
      ...(media ? { media: { ...media, addedAt: media.addedAt ?? startedAt } } : {}),
    }),
  );
  const likely = replica.findFile(fileName);
  const added =
    likely?.contentKey === uploaded.key
      ? likely
      : replica.files().find((file) => file.name === fileName && file.contentKey === uploaded.key);
  return {
    name: added?.displayName ?? fileName,
    size: uploaded.size,
    alreadyStored: uploaded.alreadyPresent,
    // Absent unless resumed: scripts compare this result whole.
    ...(uploaded.resumedFrom ? { resumedFrom: uploaded.resumedFrom } : {}),
  };
}

/** Downloads a file's content, verified, to `dest` (default: the display name here; a directory gets it inside). */
export async function downloadTo(
  replica: EditorReplica,
  transfer: ContentTransfer,
  request: {
    displayName: string;
    dest: string | undefined;
    onProgress: ProgressListener | undefined;
    signal: AbortSignal | undefined;
  },
): Promise<DownloadedFile> {
  const { displayName, dest } = request;
  const file = replica.file(displayName);
  let path = resolve(dest ?? file.displayName);
  if (dest !== undefined && (await isDirectory(path))) path = join(path, file.displayName);
  const result = await transfer
    .download(file.contentKey, path, request.onProgress, request.signal)
    .catch((error: unknown) => Promise.reject(dataPathError(error, "download", displayName)));
  return { name: file.displayName, path, size: result.size };
}
