// Tab completion for the interactive shell: command names (also after
// `help `), then, inside an editing session, the album's file names
// (removeFile, rateFile, downloadFile) and member names (removeUser), and
// local paths (addFile's paths, downloadFile's destination; `~/` too). A
// single match is completed with a space after it (a folder with a '/'), and
// several matches fill in their common prefix. Names with spaces or quotes
// are offered quoted, the way the command line splits them back
// (command-line.ts). Reads folders for local paths and nothing else.
import { readdir } from "node:fs/promises";
import { expandHome } from "./local-path.ts";

/** What the open album can offer for completion. */
export interface CompletionSource {
  fileNames(): readonly string[];
  memberNames(): readonly string[];
}

type ArgumentKind = "file" | "member" | "local" | "command" | "none";

/** Which kind of word each argument position of a command takes (the last one repeats for addFile). */
const ARGUMENTS: Record<string, { kinds: ArgumentKind[]; repeat?: boolean }> = {
  removeFile: { kinds: ["file"] },
  rateFile: { kinds: ["file", "none"] },
  downloadFile: { kinds: ["file", "local"] },
  removeUser: { kinds: ["member"] },
  addFile: { kinds: ["local"], repeat: true },
  help: { kinds: ["command"] },
};

/** The words before the cursor and the word being typed (as typed, quotes included). */
export function splitForCompletion(line: string): { words: string[]; partial: string } {
  const words: string[] = [];
  let current = "";
  let start = -1;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (start < 0 && !/\s/.test(char)) start = i;
    if (char === "\\" && i + 1 < line.length) {
      current += line[++i];
    } else if (quote) {
      if (char === quote) quote = undefined;
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (/\s/.test(char)) {
      if (start >= 0) words.push(current);
      current = "";
      start = -1;
    } else current += char;
  }
  return { words, partial: start >= 0 ? line.slice(start) : "" };
}

/** readline's completer contract: the candidates and the part of the line they complete. */
export async function completeLine(
  line: string,
  commandNames: readonly string[],
  album: CompletionSource | undefined,
): Promise<[string[], string]> {
  const { words, partial } = splitForCompletion(line);
  if (words.length === 0) {
    const slash = partial.startsWith("/") ? "/" : "";
    return fill(
      commandNames.map((name) => slash + name),
      partial,
      (name) => `${name} `,
    );
  }
  const command = words[0]!.replace(/^\//, "");
  const spec = ARGUMENTS[command];
  if (!spec) return [[], partial];
  const position = words.length - 1;
  const kind = spec.kinds[position] ?? (spec.repeat ? spec.kinds[spec.kinds.length - 1]! : "none");
  switch (kind) {
    case "command":
      return fill(commandNames, partial, (name) => `${name} `);
    case "file":
      return album
        ? fill(album.fileNames(), partial, (name) => `${quoteIfNeeded(name)} `)
        : [[], partial];
    case "member":
      return album
        ? fill(album.memberNames(), partial, (name) => `${quoteIfNeeded(name)} `)
        : [[], partial];
    case "local":
      return completeLocalPath(partial);
    default:
      return [[], partial];
  }
}

/**
 * The matches of the typed word among `names`: one match is completed in
 * full (`finish`), several fill in their common prefix, or are listed.
 */
function fill(
  names: readonly string[],
  partial: string,
  finish: (name: string) => string,
): [string[], string] {
  const typed = unquote(partial);
  const hits = names.filter((name) => name.startsWith(typed));
  if (hits.length === 0) return [[], partial];
  if (hits.length === 1) return [[finish(hits[0]!)], partial];
  const prefix = commonPrefix(hits);
  if (prefix.length > typed.length) return [[quotePrefix(prefix)], partial];
  return [hits.map(quoteIfNeeded), partial];
}

async function completeLocalPath(partial: string): Promise<[string[], string]> {
  const typed = unquote(partial);
  const slash = typed.lastIndexOf("/");
  const typedFolder = slash >= 0 ? typed.slice(0, slash + 1) : "";
  const folder = typedFolder === "" ? "." : expandHome(typedFolder);
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch {
    return [[], partial];
  }
  const base = typed.slice(slash + 1);
  const names = entries
    .filter(
      (entry) =>
        entry.name.startsWith(base) && (base.startsWith(".") || !entry.name.startsWith(".")),
    )
    .map((entry) => typedFolder + entry.name + (entry.isDirectory() ? "/" : ""))
    .sort();
  // A folder is completed with its '/' (more may follow); a file with a space.
  return fill(names, partial, (name) =>
    name.endsWith("/") ? quotePrefix(name) : `${quoteIfNeeded(name)} `,
  );
}

function commonPrefix(names: readonly string[]): string {
  let prefix = names[0] ?? "";
  for (const name of names) {
    while (!name.startsWith(prefix)) prefix = prefix.slice(0, -1);
  }
  return prefix;
}

/** How a name must be typed to stay one word. */
export function quoteIfNeeded(name: string): string {
  if (!/[\s"'\\]/.test(name)) return name;
  return `"${name.replace(/["\\]/g, (char) => `\\${char}`)}"`;
}

/** A start of a name, quoted but left open so typing can go on. */
function quotePrefix(prefix: string): string {
  if (!/[\s"'\\]/.test(prefix)) return prefix;
  return `"${prefix.replace(/["\\]/g, (char) => `\\${char}`)}`;
}

function unquote(partial: string): string {
  if (partial.startsWith('"') || partial.startsWith("'")) {
    const quote = partial[0]!;
    const inner = partial.slice(1);
    const closed = inner.endsWith(quote) ? inner.slice(0, -1) : inner;
    return closed.replace(/\\(.)/g, "$1");
  }
  return partial.replace(/\\(.)/g, "$1");
}
