// Tab completion for the interactive shell: command names, then, inside an
// editing session, the album's file names (removeFile, rateFile,
// downloadFile) and member names (removeUser). Pure: the shell passes what the
// open album lists. Names with spaces or quotes are offered quoted, the way
// the command line splits them back (command-line.ts).

/** What the open album can offer for completion. */
export interface CompletionSource {
  fileNames(): readonly string[];
  memberNames(): readonly string[];
}

const FILE_ARGUMENT = new Set(["removeFile", "rateFile", "downloadFile"]);
const MEMBER_ARGUMENT = new Set(["removeUser"]);

/** readline's completer contract: the candidates and the part of the line they complete. */
export function completeLine(
  line: string,
  commandNames: readonly string[],
  album: CompletionSource | undefined,
): [string[], string] {
  const trimmed = line.trimStart();
  const firstSpace = trimmed.search(/\s/);
  if (firstSpace < 0) {
    const slash = trimmed.startsWith("/") ? "/" : "";
    const names = commandNames.map((name) => slash + name);
    const hits = names.filter((name) => name.startsWith(trimmed));
    return [hits.length > 0 ? hits.map((hit) => `${hit} `) : names, trimmed];
  }
  const command = trimmed.slice(0, firstSpace).replace(/^\//, "");
  const rest = trimmed.slice(firstSpace).trimStart();
  // Only the first argument is completed, and only while it is being typed.
  if (!album || /^("[^"]*"|'[^']*'|[^\s"']+)\s/.test(rest)) return [[], rest];
  const names = FILE_ARGUMENT.has(command)
    ? album.fileNames()
    : MEMBER_ARGUMENT.has(command)
      ? album.memberNames()
      : [];
  const typed = unquote(rest);
  const hits = names.filter((name) => name.startsWith(typed)).map(quoteIfNeeded);
  return [hits, rest];
}

/** How a name must be typed to stay one word. */
export function quoteIfNeeded(name: string): string {
  if (!/[\s"'\\]/.test(name)) return name;
  return `"${name.replace(/["\\]/g, (char) => `\\${char}`)}"`;
}

function unquote(partial: string): string {
  if (partial.startsWith('"') || partial.startsWith("'")) {
    return partial.slice(1).replace(/\\(.)/g, "$1");
  }
  return partial.replace(/\\(.)/g, "$1");
}
