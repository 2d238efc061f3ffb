// Benchmark harness: each benchmark measures our implementation and a baseline
// *in the same run* (the machine's own limit or a peer library) and prints a
// table with the ratio, because absolute numbers on a noisy 2-core machine mean
// little on their own. Benchmarks never run as part of the tests.

export interface BenchRow {
  /** What was measured, e.g. "register+login+createAlbum". */
  name: string;
  /** Our figure. */
  value: number;
  unit: string;
  /** The same quantity for the baseline, measured in this run. */
  baseline?: number;
  baselineName?: string;
  /** true when a larger value is better (throughput); false for latency/size. */
  higherIsBetter?: boolean;
  /** The goal, in words, e.g. ">= 0.9x baseline". */
  goal?: string;
}

export interface Benchmark {
  /** Short identifier used to select it: `npm run bench -- ring`. */
  id: string;
  title: string;
  run(): Promise<BenchRow[]>;
}

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  if (Math.abs(value) >= 0.01) return value.toFixed(3);
  return value.toPrecision(3);
}

export function renderTable(title: string, rows: readonly BenchRow[]): string {
  const header = ["measure", "ours", "unit", "baseline", "baseline is", "ratio", "goal"];
  const body = rows.map((row) => [
    row.name,
    format(row.value),
    row.unit,
    row.baseline === undefined ? "" : format(row.baseline),
    row.baselineName ?? "",
    row.baseline === undefined || row.baseline === 0 ? "" : `${format(row.value / row.baseline)}x`,
    row.goal ?? "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) =>
        i === 0 || i === 4 || i === 6 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!),
      )
      .join("  ");
  return [
    `\n## ${title}`,
    line(header),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...body.map(line),
  ].join("\n");
}

/** Runs `fn` repeatedly for at least `minMs` and returns operations per second. */
export async function opsPerSecond(
  fn: () => unknown | Promise<unknown>,
  minMs = 1000,
  batch = 1,
): Promise<number> {
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < batch; i++) await fn();
    ops += batch;
    elapsed = performance.now() - start;
  }
  return (ops * 1000) / elapsed;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}
