// `npm run bench [-- id ...]`: runs every benchmark (or the named ones) and
// prints one table each. Each benchmark lives in its own `*.bench.ts` file.
import { readdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { renderTable, type Benchmark } from "./harness.ts";

// The benchmarks' processes run on loopback, plaintext unless a benchmark
// gives certificate files (the TLS rows do): --insecure for all of them.
process.env.ALBUMSHARE_INSECURE ??= "1";

const here = fileURLToPath(new URL(".", import.meta.url));
const files = (await readdir(here)).filter((f) => f.endsWith(".bench.ts")).sort();
const wanted = process.argv.slice(2);
let failures = 0;
for (const file of files) {
  const module = (await import(`./${file}`)) as { default: Benchmark };
  const bench = module.default;
  if (wanted.length > 0 && !wanted.includes(bench.id)) continue;
  try {
    const rows = await bench.run();
    console.log(renderTable(bench.title, rows));
  } catch (error) {
    failures++;
    console.error(
      `\n## ${bench.title}\nfailed: ${error instanceof Error ? error.stack : String(error)}`,
    );
  }
}
process.exit(failures === 0 ? 0 : 1);
