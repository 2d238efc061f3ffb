#!/usr/bin/env node
// Entry point of the `albumshare` executable. Runs the compiled JavaScript in
// dist/ (built by `npm ci` through the prepare script) when it is at least as
// new as every source file; otherwise runs the TypeScript sources through
// tsx's loader, so an edited tree never runs stale code and a clone works
// even without a build. The compiled run starts faster and needs ~30 MiB less
// memory per process (no compiler loaded).
import { readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));

function builtAndFresh() {
  if (process.env.ALBUMSHARE_FROM_SOURCE) return false;
  let built;
  try {
    built = statSync(`${root}dist/.build-stamp`).mtimeMs;
  } catch {
    return false;
  }
  for (const entry of readdirSync(`${root}src`, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = `${entry.parentPath ?? entry.path}/${entry.name}`;
    if (statSync(path).mtimeMs > built) return false;
  }
  return true;
}

if (builtAndFresh()) {
  await import("../dist/cli/main.js");
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cli/main.ts");
}
