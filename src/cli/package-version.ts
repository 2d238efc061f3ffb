// The version of the albumshare package, read from its package.json (the
// one next to src/ and dist/, wherever the command is run from).
import { readFileSync } from "node:fs";

export function packageVersion(): string {
  const file = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}
