// The shell's transfer commands: addFile (one file, several, or a folder's
// files, with one overall progress bar and a per-file summary) and
// downloadFile (one file, or --all into a folder). Local paths expand `~`;
// a download never replaces an existing file unless --force is given, and a
// local problem names the local path (local-path.ts). Ctrl-C cancels through
// the command's AbortSignal: an upload then adds nothing, a download keeps
// its partial file so the same command resumes it. Never prints a content key.
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { AlbumError, ErrorCode, invalidArgument } from "../common/album-error.ts";
import type { ProgressListener } from "../client/data-transfer/transfer-progress.ts";
import { PARTIAL_SUFFIX } from "../client/data-transfer/download.ts";
import type { AddedFile, DownloadedFile } from "../client/session/album-session.ts";
import { openSession } from "./album-commands.ts";
import { downloadDestination, expandHome } from "./local-path.ts";
import type { CommandResult, ShellCommand, ShellContext } from "./shell-commands.ts";
import { formatBytes } from "./transfer-progress-bar.ts";

interface PlannedUpload {
  path: string;
  name?: string;
  size: number;
}

interface Failure {
  what: string;
  error: string;
}

/** What `addFile a b c` means: one file under a name, or files and folders' files. */
export async function planUploads(args: readonly string[]): Promise<PlannedUpload[]> {
  const paths = args.map((arg) => expandHome(arg));
  // `addFile <path> <name>` stays what it was, unless the second word is a local path too.
  if (paths.length === 2 && !(await isFolder(paths[0]!)) && !(await exists(paths[1]!))) {
    return [{ path: paths[0]!, name: args[1]!, size: await sizeOf(paths[0]!) }];
  }
  const planned: PlannedUpload[] = [];
  for (const path of paths) {
    if (await isFolder(path)) {
      const entries = (await readdir(path, { withFileTypes: true }))
        .filter((entry) => entry.isFile() && !entry.name.startsWith("."))
        .map((entry) => entry.name)
        .sort();
      if (entries.length === 0) throw invalidArgument(`the folder ${path} holds no files to add`);
      for (const name of entries) {
        const full = join(path, name);
        planned.push({ path: full, size: await sizeOf(full) });
      }
    } else planned.push({ path, size: await sizeOf(path) });
  }
  return planned;
}

/** One bar for several files: hashing counts for half of a file, sending for the other half. */
function overallProgress(
  listener: ProgressListener | undefined,
  files: readonly PlannedUpload[],
): (index: number) => ProgressListener | undefined {
  if (!listener) return () => undefined;
  const total = files.reduce((sum, file) => sum + file.size, 0);
  return (index) => {
    const before = files.slice(0, index).reduce((sum, file) => sum + file.size, 0);
    return (progress) => {
      const size = progress.totalBytes;
      const half = progress.phase === "hashing" ? 0 : size / 2;
      listener({
        phase: progress.phase,
        doneBytes: Math.min(total, before + half + progress.doneBytes / 2),
        totalBytes: total,
      });
    };
  };
}

async function withProgress<T>(
  context: ShellContext,
  label: string,
  run: (onProgress: ProgressListener | undefined) => Promise<T>,
): Promise<T> {
  const bar = context.transferProgress(label);
  try {
    return await run(bar?.listener);
  } finally {
    bar?.stop();
  }
}

function cancelled(context: ShellContext, what: string): AlbumError | undefined {
  if (!context.signal.aborted) return undefined;
  return new AlbumError(ErrorCode.FailedPrecondition, `cancelled: ${what}`);
}

function addedLine(added: AddedFile): string {
  const stored = added.alreadyStored ? ", content already stored" : "";
  const resumed = added.resumedFrom ? `, resumed at ${formatBytes(added.resumedFrom)}` : "";
  return `added '${added.name}' (${formatBytes(added.size)}${stored}${resumed})`;
}

const addFile: ShellCommand = {
  name: "addFile",
  args: ["<path>", "[name]"],
  summary:
    "upload a local file and add it to the album (under its base name, or [name]); " +
    "several paths or a folder add each file",
  arity: [1, Number.POSITIVE_INFINITY],
  needsLogin: true,
  needsSession: true,
  async run(context, args) {
    const album = openSession(context);
    const planned = await planUploads(args);
    if (planned.length === 1) {
      const only = planned[0]!;
      const added = await withProgress(context, "addFile", (onProgress) =>
        album.addFile(only.path, only.name, onProgress, { signal: context.signal }),
      ).catch((error: unknown) => {
        throw (
          cancelled(
            context,
            `nothing was added (${only.path}); the data server keeps what was sent for a while, so the same addFile resumes it`,
          ) ?? error
        );
      });
      return { text: addedLine(added), data: added };
    }
    const added: AddedFile[] = [];
    const failed: Failure[] = [];
    await withProgress(context, `addFile ${planned.length} files`, async (listener) => {
      const forFile = overallProgress(listener, planned);
      for (const [index, file] of planned.entries()) {
        if (context.signal.aborted) break;
        try {
          added.push(
            await album.addFile(file.path, undefined, forFile(index), { signal: context.signal }),
          );
        } catch (error) {
          if (context.signal.aborted) break;
          failed.push({ what: file.path, error: AlbumError.from(error).toLine() });
        }
      }
    });
    return summary(context, {
      done: added.map(addedLine),
      failed,
      total: planned.length,
      verb: "added",
      data: { added, failed },
      cancelledNote: "the files not listed were not added",
    });
  },
};

function summary(
  context: ShellContext,
  outcome: {
    done: string[];
    failed: Failure[];
    total: number;
    verb: string;
    data: unknown;
    cancelledNote: string;
  },
): CommandResult {
  const lines = [
    ...outcome.done,
    ...outcome.failed.map((failure) => `failed: ${failure.what}: ${failure.error}`),
  ];
  const head = `${outcome.verb} ${outcome.done.length} of ${outcome.total} files`;
  if (context.signal.aborted) {
    throw new AlbumError(
      ErrorCode.FailedPrecondition,
      `cancelled: ${head}; ${outcome.cancelledNote}`,
    );
  }
  if (outcome.failed.length > 0) {
    // The command failed (exit status 1 in scripts); the message still says what was done.
    throw new AlbumError(ErrorCode.FailedPrecondition, [`${head}`, ...lines].join("\n"));
  }
  return { text: [...lines, head].join("\n"), data: outcome.data };
}

interface DownloadArgs {
  all: boolean;
  force: boolean;
  words: string[];
}

function parseDownloadArgs(args: readonly string[]): DownloadArgs {
  const words: string[] = [];
  let all = false;
  let force = false;
  for (const arg of args) {
    if (arg === "--all") all = true;
    else if (arg === "--force") force = true;
    else if (arg.startsWith("--")) throw invalidArgument(`unknown option ${arg} of downloadFile`);
    else words.push(arg);
  }
  if (all ? words.length > 1 : words.length < 1 || words.length > 2) {
    throw invalidArgument(
      "usage: downloadFile <name> [dest] [--force] or downloadFile --all [folder] [--force]",
    );
  }
  return { all, force, words };
}

function downloadedLine(downloaded: DownloadedFile): string {
  return `downloaded '${downloaded.name}' to ${downloaded.path} (${formatBytes(downloaded.size)}, verified)`;
}

const downloadFile: ShellCommand = {
  name: "downloadFile",
  args: ["<name>", "[dest]", "[--force]"],
  summary:
    "download a file (verified) to [dest] (a file, or a folder to write into; default: here); " +
    "never replaces a file without --force; --all [folder] downloads every file",
  arity: [1, 3],
  needsLogin: true,
  needsSession: true,
  async run(context, args) {
    const album = openSession(context);
    const { all, force, words } = parseDownloadArgs(args);
    if (!all) {
      const name = words[0]!;
      album.listFiles(); // the session must still be open before we look at local paths
      const path = await downloadDestination(name, words[1], { force });
      const downloaded = await withProgress(context, "downloadFile", (onProgress) =>
        album.downloadFile(name, path, onProgress, context.signal),
      ).catch((error: unknown) => {
        throw (
          cancelled(
            context,
            `the partial download is kept as ${path}${PARTIAL_SUFFIX}; the same command resumes it`,
          ) ?? error
        );
      });
      return { text: downloadedLine(downloaded), data: downloaded };
    }
    const folder = `${expandHome(words[0] ?? ".")}/`;
    const files = album.listFiles();
    if (files.length === 0) return { text: "no files to download", data: { downloaded: [] } };
    const done: DownloadedFile[] = [];
    const failed: Failure[] = [];
    await withProgress(context, `downloadFile ${files.length} files`, async (listener) => {
      const total = files.reduce((sum, file) => sum + file.size, 0);
      let before = 0;
      for (const file of files) {
        if (context.signal.aborted) break;
        try {
          const path = await downloadDestination(file.name, folder, { force });
          const start = before;
          done.push(
            await album.downloadFile(
              file.name,
              path,
              listener &&
                ((progress) =>
                  listener({
                    phase: progress.phase,
                    doneBytes: start + (progress.phase === "downloading" ? progress.doneBytes : 0),
                    totalBytes: total,
                  })),
              context.signal,
            ),
          );
        } catch (error) {
          if (context.signal.aborted) break;
          failed.push({ what: file.name, error: AlbumError.from(error).toLine() });
        }
        before += file.size;
      }
    });
    return summary(context, {
      done: done.map(downloadedLine),
      failed,
      total: files.length,
      verb: "downloaded",
      data: { downloaded: done, failed },
      cancelledNote: `a partial file (${PARTIAL_SUFFIX}) is kept; the same command resumes it`,
    });
  },
};

export const transferCommands: readonly ShellCommand[] = [addFile, downloadFile];

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The size for the overall bar; a missing file fails later with AlbumSession's own line. */
async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
