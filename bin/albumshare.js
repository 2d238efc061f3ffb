#!/usr/bin/env node
// Entry point of the `albumshare` executable: runs the TypeScript CLI through tsx's loader,
// so a fresh clone works after `npm ci` with no build step.
import { register } from "tsx/esm/api";
register();
await import("../src/cli/main.ts");
