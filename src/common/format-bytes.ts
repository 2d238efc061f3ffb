// Sizes for people: "812 B", "2.3 MiB". Shared by the shell's tables and
// progress bars, the replica's debug view and the web page (its bundle
// imports this file). Pure: must never use a Node or DOM API, so that both
// the server's and the front end's TypeScript projects compile it.

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
