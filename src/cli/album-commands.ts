// The shell's album commands: open and hand back an editing session, and
// everything done inside one (files, members, ratings, downloads). Each runs
// through the client core's AlbumSession and returns one result (text for
// people, data for --json). Outside a session they fail with one line saying
// so. Never prints a content key: AlbumSession reports none.
import { AlbumError, ErrorCode, failedPrecondition } from "../common/album-error.ts";
import type { ListedFile } from "../client/session/album-session.ts";
import type { CommandResult, ShellCommand, ShellContext } from "./shell-commands.ts";
import { formatFilesTable } from "./files-table.ts";

export const NOT_IN_SESSION = "not in an editing session (getAlbum <album> first)";

/** The open session, or the one-line error every album command gives outside one. */
export function openSession(context: ShellContext): NonNullable<ShellContext["album"]> {
  const album = context.album;
  if (!album?.isOpen) throw failedPrecondition(NOT_IN_SESSION);
  return album;
}

/** Hands the open album back (if any) and says so; used by putAlbum, logout, quit and end of input. */
export async function handBack(context: ShellContext): Promise<CommandResult | undefined> {
  const album = await context.closeAlbum();
  if (album === undefined) return undefined;
  return {
    text: `handed '${album}' back to the central server; editing ended`,
    data: { album },
  };
}

function describeAverage(file: Pick<ListedFile, "average" | "ratings">): string {
  if (file.average === null) return "no ratings";
  return `average ${file.average.toFixed(2)} (${file.ratings} rating${file.ratings === 1 ? "" : "s"})`;
}

function parseStars(text: string): number {
  // Anything but plain digits (3.5, -1, "", 2e0) is refused by AlbumSession's check.
  return /^\d{1,3}$/.test(text) ? Number(text) : Number.NaN;
}

export const albumCommands: readonly ShellCommand[] = [
  {
    name: "getAlbum",
    args: ["<album>"],
    summary:
      "start (or join) editing an album: a local replica, the other editors, chat " +
      "(<creator>/<album> when two of yours share a name)",
    arity: [1, Number.POSITIVE_INFINITY],
    needsLogin: true,
    async run(context, words) {
      const name = words.join(" ");
      const open = context.album;
      if (open?.isOpen) {
        throw new AlbumError(
          ErrorCode.FailedPrecondition,
          `already editing '${open.album}'; putAlbum first (one album at a time)`,
        );
      }
      const album = await context.openAlbum(name);
      const editors = album.editors();
      const members = [...album.members()];
      const files = album.listFiles().length;
      const others =
        editors.length === 0
          ? "no other editors"
          : `other editors: ${editors.map((e) => `${e.user} (slot ${e.slot})`).join(", ")}`;
      return {
        text:
          `editing '${album.album}' (slot ${album.slot}): ${files} file${files === 1 ? "" : "s"}, ` +
          `${members.length} member${members.length === 1 ? "" : "s"}; ${others}. ` +
          `Lines that are not commands are chat.`,
        data: { album: album.album, slot: album.slot, editors, files, members },
      };
    },
  },
  {
    name: "putAlbum",
    args: [],
    summary: "finish editing: hand the replica back to the central server",
    arity: [0, 0],
    needsLogin: true,
    needsSession: true,
    async run(context) {
      openSession(context);
      const result = await handBack(context);
      if (!result) throw failedPrecondition(NOT_IN_SESSION);
      return result;
    },
  },
  {
    name: "listReplica",
    args: [],
    summary: "show the local replica: members, files, ratings, causal metadata",
    arity: [0, 0],
    needsLogin: true,
    needsSession: true,
    run(context) {
      const album = openSession(context);
      const text = album.listReplica();
      return Promise.resolve({
        text,
        data: {
          album: album.album,
          slot: album.slot,
          members: [...album.members()],
          files: album.listFiles(),
          // False once the central server has acknowledged every change we know of.
          unhandedChanges: album.hasUnhandedChanges,
          description: text,
        },
      });
    },
  },
  {
    name: "listFiles",
    args: [],
    summary: "list the album's files: name, size, who added it, average rating and count",
    arity: [0, 0],
    needsLogin: true,
    needsSession: true,
    run(context) {
      const files = openSession(context).listFiles();
      const data = {
        // Kept to these three fields: scripts and tests compare them whole (listReplica has the rest).
        files: files.map(({ name, average, ratings }) => ({ name, average, ratings })),
      };
      if (files.length === 0)
        return Promise.resolve({ text: "no files yet (addFile <path>)", data });
      return Promise.resolve({ text: formatFilesTable(files, context.columns), data });
    },
  },
  {
    name: "addUser",
    args: ["<name>"],
    summary: "add a registered user to the album's members",
    arity: [1, 1],
    needsLogin: true,
    needsSession: true,
    async run(context, [name]) {
      const album = openSession(context);
      const change = await album.addUser(name!);
      const note = change.handedOff ? "" : " (the central server will learn of it shortly)";
      return {
        text: `added '${change.user}' to '${album.album}'${note}`,
        data: { user: change.user, members: change.members },
      };
    },
  },
  {
    name: "removeUser",
    args: ["<name>"],
    summary: "remove a user from the album's members",
    arity: [1, 1],
    needsLogin: true,
    needsSession: true,
    async run(context, [name]) {
      const album = openSession(context);
      const change = await album.removeUser(name!);
      const note = change.handedOff ? "" : " (the central server will learn of it shortly)";
      return {
        text: `removed '${change.user}' from '${album.album}'${note}`,
        data: { user: change.user, members: change.members },
      };
    },
  },
  {
    name: "removeFile",
    args: ["<name>"],
    summary: "remove a file from the album",
    arity: [1, 1],
    needsLogin: true,
    needsSession: true,
    async run(context, [name]) {
      const removed = await openSession(context).removeFile(name!);
      return { text: `removed '${removed.name}'`, data: removed };
    },
  },
  {
    name: "rateFile",
    args: ["<name>", "<0-5>"],
    summary: "rate a file from 0 to 5 stars (once per file, ever)",
    arity: [2, 2],
    needsLogin: true,
    needsSession: true,
    async run(context, [name, stars]) {
      const rated = await openSession(context).rateFile(name!, parseStars(stars!));
      return {
        text: `rated '${rated.name}' ${rated.stars} star${rated.stars === 1 ? "" : "s"}; ${describeAverage(rated)}`,
        data: rated,
      };
    },
  },
];
