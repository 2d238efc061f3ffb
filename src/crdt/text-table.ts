// Aligned text columns for the replica's debug view: a header row and rows
// of cells, each column as wide as its widest cell, two spaces between
// columns, no trailing spaces. Pure.

export function textTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string[] {
  const widths = header.map((title, column) =>
    Math.max([...title].length, ...rows.map((row) => [...(row[column] ?? "")].length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell + " ".repeat(widths[column]! - [...cell].length))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
